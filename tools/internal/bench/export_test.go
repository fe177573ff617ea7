package bench

// LimitBuilt tells the external tests whether the limit loop exists.
var LimitBuilt = haveNT
