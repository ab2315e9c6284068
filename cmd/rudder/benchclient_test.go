package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"rudder/bench/loadgen"
	"rudder/netexec"
)

func TestBenchClient(t *testing.T) {
	srv, err := netexec.New(netexec.Config{HTTPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	target := srv.TCPAddr().String()

	for _, mode := range []string{"rr", "crr"} {
		t.Run(mode, func(t *testing.T) {
			cmd := newBenchClientCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetArgs([]string{"--target", target, "--mode", mode, "--duration", "300ms", "--warmup", "100ms"})
			if err := cmd.ExecuteContext(t.Context()); err != nil {
				t.Fatal(err)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Errorf("want one JSON line, got %q", out.String())
			}
			var res loadgen.Result
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("decode %q: %v", out.String(), err)
			}
			if string(res.Mode) != mode || res.Transactions == 0 || res.P50 <= 0 {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestBenchClientBadInput(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--target", "127.0.0.1:1", "--mode", "stream"},
		{"--target", "nohost", "--mode", "rr"},
		{"--target", "127.0.0.1:1", "--duration", "-1s"},
	} {
		cmd := newBenchClientCommand()
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(t.Context()); err == nil {
			t.Errorf("args %q: want an error", args)
		}
	}
}
