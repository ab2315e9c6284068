package hostlocal

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRangeCanonical(t *testing.T) {
	p := netip.MustParsePrefix
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		name    string
		in      Range
		want    Range
		size    uint64
		wantErr string
	}{
		{name: "defaults", in: Range{Subnet: p("10.244.1.7/24")},
			want: Range{Subnet: p("10.244.1.0/24"), RangeStart: ip("10.244.1.1"), RangeEnd: ip("10.244.1.254"), Gateway: ip("10.244.1.1")}, size: 253},
		{name: "explicit", in: Range{Subnet: p("10.0.0.0/16"), RangeStart: ip("10.0.1.0"), RangeEnd: ip("10.0.1.255"), Gateway: ip("10.0.0.1")},
			want: Range{Subnet: p("10.0.0.0/16"), RangeStart: ip("10.0.1.0"), RangeEnd: ip("10.0.1.255"), Gateway: ip("10.0.0.1")}, size: 256},
		{name: "slash 30", in: Range{Subnet: p("10.0.0.0/30")}, size: 1,
			want: Range{Subnet: p("10.0.0.0/30"), RangeStart: ip("10.0.0.1"), RangeEnd: ip("10.0.0.2"), Gateway: ip("10.0.0.1")}},
		{name: "ipv6", in: Range{Subnet: p("fd00::/120")}, size: 254,
			want: Range{Subnet: p("fd00::/120"), RangeStart: ip("fd00::1"), RangeEnd: ip("fd00::ff"), Gateway: ip("fd00::1")}},
		{name: "no subnet", in: Range{}, wantErr: "no subnet"},
		{name: "slash 31", in: Range{Subnet: p("10.0.0.0/31")}, wantErr: "too small"},
		{name: "only a gateway", in: Range{Subnet: p("10.0.0.0/30"), RangeEnd: ip("10.0.0.1")}, wantErr: "no address besides its gateway"},
		{name: "start outside", in: Range{Subnet: p("10.0.0.0/24"), RangeStart: ip("10.0.1.5")}, wantErr: "rangeStart 10.0.1.5 is not a usable address of 10.0.0.0/24"},
		{name: "start is network", in: Range{Subnet: p("10.0.0.0/24"), RangeStart: ip("10.0.0.0")}, wantErr: "rangeStart"},
		{name: "end is broadcast", in: Range{Subnet: p("10.0.0.0/24"), RangeEnd: ip("10.0.0.255")}, wantErr: "rangeEnd"},
		{name: "end before start", in: Range{Subnet: p("10.0.0.0/24"), RangeStart: ip("10.0.0.9"), RangeEnd: ip("10.0.0.8")}, wantErr: "rangeEnd"},
		{name: "gateway outside", in: Range{Subnet: p("10.0.0.0/24"), Gateway: ip("10.0.9.1")}, wantErr: "gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Canonical()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || got.Size() != tc.size {
				t.Fatalf("got %+v size %d, %v; want %+v size %d", got, got.Size(), err, tc.want, tc.size)
			}
		})
	}
}

func TestRangeSetCanonical(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name    string
		set     RangeSet
		wantErr string
	}{
		{name: "empty", wantErr: "empty"},
		{name: "overlap", set: RangeSet{{Subnet: p("10.0.0.0/24")}, {Subnet: p("10.0.0.0/25")}}, wantErr: "overlap"},
		{name: "mixed families", set: RangeSet{{Subnet: p("10.0.0.0/24")}, {Subnet: p("fd00::/64")}}, wantErr: "mixes"},
		{name: "disjoint", set: RangeSet{{Subnet: p("10.0.0.0/24")}, {Subnet: p("10.0.1.0/24")}}},
	} {
		_, err := tc.set.Canonical()
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	huge, err := RangeSet{{Subnet: p("fd00::/32")}}.Canonical()
	if err != nil || huge.Size() != ^uint64(0) {
		t.Errorf("a /32 IPv6 range: size %d, %v; want saturated", huge.Size(), err)
	}
}
