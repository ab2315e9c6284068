package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestApplyConfigFile(t *testing.T) {
	tests := []struct {
		name, file string
		args       []string
		wantErr    string
		domain     string
		upstream   []string
		ttl        time.Duration
		cache      bool
	}{
		{name: "defaults", file: "{}", domain: "cluster.local", cache: true, ttl: 5 * time.Second},
		{name: "scalars and a list", file: "cluster-domain: corp.local\nupstream: [10.0.0.2:53, 10.0.0.3]\nttl: 30s\ncache: false\n",
			domain: "corp.local", upstream: []string{"10.0.0.2:53", "10.0.0.3"}, ttl: 30 * time.Second},
		{name: "command line wins", file: "cluster-domain: corp.local\n", args: []string{"--cluster-domain=cli.local"},
			domain: "cli.local", cache: true, ttl: 5 * time.Second},
		{name: "unknown key", file: "cluster-domian: x\n", wantErr: `unknown key "cluster-domian"`},
		{name: "bad value", file: "ttl: soon\n", wantErr: "ttl"},
		{name: "nested value", file: "upstream: [{a: b}]\n", wantErr: "want a scalar"},
		{name: "not yaml", file: "a: [\n", wantErr: "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("dns", pflag.ContinueOnError)
			domain := fs.String("cluster-domain", "cluster.local", "")
			upstream := fs.StringSlice("upstream", nil, "")
			ttl := fs.Duration("ttl", 5*time.Second, "")
			cache := fs.Bool("cache", true, "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "dns.yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			err := applyConfigFile(fs, path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *domain != tt.domain || strings.Join(*upstream, ",") != strings.Join(tt.upstream, ",") || *ttl != tt.ttl || *cache != tt.cache {
				t.Errorf("got domain %q upstream %v ttl %v cache %v", *domain, *upstream, *ttl, *cache)
			}
		})
	}
}
