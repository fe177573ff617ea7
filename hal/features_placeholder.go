package hal

// Placeholder until detection lands: assume the most conservative CPU.
func detectCPU() Features { return Features{CacheLineSize: 64} }
