package cpeer

// CBlockFor exposes the C side of BlockFor to the tests.
var CBlockFor = cBlockFor
