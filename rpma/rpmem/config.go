package rpmem

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/gopmdk/pmdk/rpma"
)

// Config is the client side's configuration: the security of the
// connections to rpmemd (one of TLS or PSK, as rpma requires) and the
// bound of every wait.
type Config struct {
	// PSK is the key shared with rpmemd (at least rpma.MinPSKSize bytes).
	PSK []byte
	// TLS is used instead of PSK when set: it needs RootCAs (rpmemd's
	// certificate authority) and, for rpmemd's client check, a
	// certificate. ServerName defaults to the node's host.
	TLS *tls.Config
	// Timeout bounds connecting, the read of the remote pool at open,
	// and each persist (the wait for rpmemd's answer); 0 means 10 s. A
	// persist that does not end in time fails the replica (Map.Err).
	Timeout time.Duration
	// Logger receives the connection's diagnostics; nil is silent.
	Logger *slog.Logger
}

// The environment a Config is read from when no SetDefault was made.
const (
	EnvPSKFile = "RPMEM_PSK_FILE" // file holding the pre-shared key (one trailing newline dropped)
	EnvCert    = "RPMEM_CERT"     // PEM certificate of this side (with EnvKey, instead of a PSK)
	EnvKey     = "RPMEM_KEY"      // its PEM private key
	EnvCA      = "RPMEM_CA"       // PEM certificate authority that signed the other side's
	EnvTimeout = "RPMEM_TIMEOUT"  // Config.Timeout, as time.ParseDuration reads it
)

var (
	defaultMu  sync.Mutex
	defaultCfg *Config
)

// SetDefault makes c the configuration remote replicas opened through
// core/pool use; nil goes back to the environment (ConfigFromEnv).
func SetDefault(c *Config) {
	defaultMu.Lock()
	defaultCfg = c
	defaultMu.Unlock()
}

func currentConfig() (*Config, error) {
	defaultMu.Lock()
	c := defaultCfg
	defaultMu.Unlock()
	if c != nil {
		return c, nil
	}
	return ConfigFromEnv()
}

// ConfigFromEnv reads a client Config from the environment: the key in
// the file $RPMEM_PSK_FILE, or the certificate pair $RPMEM_CERT and
// $RPMEM_KEY with the authority $RPMEM_CA; $RPMEM_TIMEOUT if set.
func ConfigFromEnv() (*Config, error) {
	c := &Config{}
	if t := os.Getenv(EnvTimeout); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, fmt.Errorf("rpmem: $%s: %w", EnvTimeout, err)
		}
		c.Timeout = d
	}
	switch {
	case os.Getenv(EnvPSKFile) != "":
		key, err := ReadPSK(os.Getenv(EnvPSKFile))
		if err != nil {
			return nil, err
		}
		c.PSK = key
	case os.Getenv(EnvCert) != "":
		cfg, err := TLSConfig(os.Getenv(EnvCert), os.Getenv(EnvKey), os.Getenv(EnvCA), false)
		if err != nil {
			return nil, err
		}
		c.TLS = cfg
	default:
		return nil, fmt.Errorf("rpmem: no credentials: set $%s, or $%s, $%s and $%s, or call rpmem.SetDefault: %w",
			EnvPSKFile, EnvCert, EnvKey, EnvCA, rpma.ErrNoSecurity)
	}
	return c, nil
}

// ReadPSK reads a pre-shared key from a file, dropping one trailing
// newline.
func ReadPSK(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rpmem: pre-shared key: %w", err)
	}
	b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if len(b) < rpma.MinPSKSize {
		return nil, fmt.Errorf("rpmem: pre-shared key in %s: %d bytes, need %d: %w", path, len(b), rpma.MinPSKSize, rpma.ErrInvalid)
	}
	return b, nil
}

// TLSConfig builds a TLS configuration from PEM files: this side's
// certificate and key, and the authority that signed the other side's
// certificate (the server then requires and checks client certificates,
// the client checks the server's).
func TLSConfig(certFile, keyFile, caFile string, server bool) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("rpmem: certificate: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("rpmem: certificate authority: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("rpmem: certificate authority %s: no PEM certificate: %w", caFile, rpma.ErrInvalid)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	if server {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, pool
	} else {
		c.RootCAs = pool
	}
	return c, nil
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 10 * time.Second
}
