package server

import (
	"crypto/x509"
	"net"
	"testing"
)

func TestTLSEndpoint(t *testing.T) {
	named := func(dns []string, ips ...string) *x509.Certificate {
		c := &x509.Certificate{DNSNames: dns}
		for _, ip := range ips {
			c.IPAddresses = append(c.IPAddresses, net.ParseIP(ip))
		}
		return c
	}
	for _, tc := range []struct {
		name      string
		addr      string
		leaf      *x509.Certificate
		want      string
		wantNamed bool
	}{
		{"the listener's IP", "192.0.2.2:9324", named(nil, "192.0.2.2"), "https://192.0.2.2:9324", true},
		{"loopback named by IP", "127.0.0.1:9324", named([]string{"sluice.example"}, "127.0.0.1"), "https://127.0.0.1:9324", true},
		{"loopback named localhost only", "127.0.0.1:9324", named([]string{"localhost"}), "https://localhost:9324", true},
		{"every address, localhost named", "0.0.0.0:9324", named([]string{"sluice.example", "localhost"}), "https://localhost:9324", true},
		{"every IPv6 address, 127.0.0.1 named", "[::]:9324", named([]string{"sluice.example"}, "127.0.0.1"), "https://127.0.0.1:9324", true},
		{"every address, only a public name", "0.0.0.0:9324", named([]string{"sluice.example"}), "https://0.0.0.0:9324", false},
		{"another interface, not named", "192.0.2.2:9324", named([]string{"localhost"}, "127.0.0.1"), "https://192.0.2.2:9324", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tlsEndpoint(tc.addr, tc.leaf)
			if got != tc.want || ok != tc.wantNamed {
				t.Errorf("tlsEndpoint(%s) = %s, %v; want %s, %v", tc.addr, got, ok, tc.want, tc.wantNamed)
			}
		})
	}
}
