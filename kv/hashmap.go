package kv

func openCMap(cfg *Config) (engine, error)  { return nil, ErrNotSupported }
func openRadix(cfg *Config) (engine, error) { return nil, ErrNotSupported }
