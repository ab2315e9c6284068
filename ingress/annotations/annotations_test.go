package annotations

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rudder/ingress/route"
)

func defaults() Result {
	return Result{Policy: route.Policy{
		SSLRedirect:    true,
		BodyLimit:      1 << 20,
		ConnectTimeout: 5 * time.Second,
		ReadTimeout:    60 * time.Second,
		SendTimeout:    60 * time.Second,
		Protocol:       route.HTTP,
		Balance:        route.RoundRobin,
	}}
}

func defaultCORS() *route.CORS {
	return &route.CORS{
		AllowOrigins:     []string{"*"},
		AllowMethods:     "GET, PUT, POST, DELETE, PATCH, OPTIONS",
		AllowHeaders:     DefaultCORSHeaders,
		AllowCredentials: true,
		MaxAge:           1728000 * time.Second,
	}
}

// keyCase is one annotation set under a name (after the prefix).
type keyCase struct {
	name string
	in   map[string]string // names after the prefix
	want func(*Result)
	// problems are the names (after the prefix) expected in Problems.
	problems []string
}

func keyCases() []keyCase {
	return []keyCase{
		{name: "none", in: nil, want: func(*Result) {}},
		{name: "rewrite", in: map[string]string{"rewrite-target": "/$2"}, want: func(r *Result) {
			r.Policy.RewriteTarget = "/$2"
			r.UseRegex = true
		}},
		{name: "use-regex", in: map[string]string{"use-regex": "true"}, want: func(r *Result) { r.UseRegex = true }},
		{name: "use-regex false", in: map[string]string{"use-regex": "false"}, want: func(*Result) {}},
		{name: "use-regex bad", in: map[string]string{"use-regex": "yes"}, want: func(*Result) {}, problems: []string{"use-regex"}},
		{name: "ssl-redirect off", in: map[string]string{"ssl-redirect": "false"}, want: func(r *Result) { r.Policy.SSLRedirect = false }},
		{name: "ssl-redirect bad", in: map[string]string{"ssl-redirect": "nope"}, want: func(*Result) {}, problems: []string{"ssl-redirect"}},
		{name: "force", in: map[string]string{"force-ssl-redirect": "true"}, want: func(r *Result) { r.ForceSSLRedirect = true }},
		{name: "body 8k", in: map[string]string{"proxy-body-size": "8k"}, want: func(r *Result) { r.Policy.BodyLimit = 8 << 10 }},
		{name: "body 1M", in: map[string]string{"proxy-body-size": "1M"}, want: func(r *Result) { r.Policy.BodyLimit = 1 << 20 }},
		{name: "body 2g", in: map[string]string{"proxy-body-size": "2g"}, want: func(r *Result) { r.Policy.BodyLimit = 2 << 30 }},
		{name: "body 512", in: map[string]string{"proxy-body-size": "512"}, want: func(r *Result) { r.Policy.BodyLimit = 512 }},
		{name: "body 0", in: map[string]string{"proxy-body-size": "0"}, want: func(r *Result) { r.Policy.BodyLimit = 0 }},
		{name: "body bad", in: map[string]string{"proxy-body-size": "1t"}, want: func(*Result) {}, problems: []string{"proxy-body-size"}},
		{name: "body negative", in: map[string]string{"proxy-body-size": "-1m"}, want: func(*Result) {}, problems: []string{"proxy-body-size"}},
		{name: "timeouts", in: map[string]string{
			"proxy-connect-timeout": "10", "proxy-read-timeout": "120s", "proxy-send-timeout": "1m30s",
		}, want: func(r *Result) {
			r.Policy.ConnectTimeout = 10 * time.Second
			r.Policy.ReadTimeout = 120 * time.Second
			r.Policy.SendTimeout = 90 * time.Second
		}},
		{name: "timeout bad", in: map[string]string{"proxy-read-timeout": "-5", "proxy-send-timeout": "soon"}, want: func(*Result) {},
			problems: []string{"proxy-read-timeout", "proxy-send-timeout"}},
		{name: "affinity", in: map[string]string{"affinity": "cookie"}, want: func(r *Result) {
			r.Policy.Affinity = &route.Affinity{CookieName: "INGRESSCOOKIE"}
		}},
		{name: "affinity options", in: map[string]string{
			"affinity": "cookie", "session-cookie-name": "route", "session-cookie-max-age": "3600", "session-cookie-path": "/app",
		}, want: func(r *Result) {
			r.Policy.Affinity = &route.Affinity{CookieName: "route", MaxAge: time.Hour, Path: "/app"}
		}},
		{name: "affinity bad options", in: map[string]string{
			"affinity": "cookie", "session-cookie-name": "a b", "session-cookie-max-age": "-1", "session-cookie-path": "app",
		}, want: func(r *Result) {
			r.Policy.Affinity = &route.Affinity{CookieName: "INGRESSCOOKIE"}
		}, problems: []string{"session-cookie-max-age", "session-cookie-name", "session-cookie-path"}},
		{name: "affinity bad", in: map[string]string{"affinity": "ip"}, want: func(*Result) {}, problems: []string{"affinity"}},
		{name: "cookie without affinity", in: map[string]string{"session-cookie-name": "x"}, want: func(*Result) {},
			problems: []string{"session-cookie-name"}},
		{name: "protocol grpc", in: map[string]string{"backend-protocol": "grpc"}, want: func(r *Result) { r.Policy.Protocol = route.GRPC }},
		{name: "protocol HTTPS", in: map[string]string{"backend-protocol": "HTTPS"}, want: func(r *Result) { r.Policy.Protocol = route.HTTPS }},
		{name: "protocol GRPCS", in: map[string]string{"backend-protocol": "GRPCS"}, want: func(r *Result) { r.Policy.Protocol = route.GRPCS }},
		{name: "protocol bad", in: map[string]string{"backend-protocol": "FCGI"}, want: func(*Result) {}, problems: []string{"backend-protocol"}},
		{name: "cors", in: map[string]string{"enable-cors": "true"}, want: func(r *Result) { r.Policy.CORS = defaultCORS() }},
		{name: "cors off reports options", in: map[string]string{"cors-allow-origin": "https://a"}, want: func(*Result) {},
			problems: []string{"cors-allow-origin"}},
		{name: "cors options", in: map[string]string{
			"enable-cors": "true", "cors-allow-origin": "https://a.com, https://b.com", "cors-allow-methods": "GET",
			"cors-allow-headers": "X-A", "cors-expose-headers": "X-B", "cors-allow-credentials": "false", "cors-max-age": "60",
		}, want: func(r *Result) {
			r.Policy.CORS = &route.CORS{AllowOrigins: []string{"https://a.com", "https://b.com"}, AllowMethods: "GET",
				AllowHeaders: "X-A", ExposeHeaders: "X-B", MaxAge: time.Minute}
		}},
		{name: "cors bad", in: map[string]string{"enable-cors": "true", "cors-allow-origin": " , ", "cors-max-age": "x"},
			want:     func(r *Result) { r.Policy.CORS = defaultCORS() },
			problems: []string{"cors-allow-origin", "cors-max-age"}},
		{name: "limit-rps", in: map[string]string{"limit-rps": "10"}, want: func(r *Result) { r.Policy.LimitRPS = 10 }},
		{name: "limit-rps bad", in: map[string]string{"limit-rps": "ten"}, want: func(*Result) {}, problems: []string{"limit-rps"}},
		{name: "whitelist", in: map[string]string{"whitelist-source-range": "10.0.0.0/8, 192.168.1.7,2001:db8::/32, ::1"},
			want: func(r *Result) {
				r.Policy.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
					netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("::1/128")}
			}},
		{name: "allowlist masks", in: map[string]string{"allowlist-source-range": "10.1.2.3/8"},
			want: func(r *Result) { r.Policy.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }},
		{name: "allowlist beats whitelist", in: map[string]string{"allowlist-source-range": "10.0.0.0/8", "whitelist-source-range": "bad"},
			want: func(r *Result) { r.Policy.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }},
		{name: "allowlist bad fails closed", in: map[string]string{"allowlist-source-range": "10.0.0.0/8,nope"},
			want: func(r *Result) { r.Policy.DenyAll = true }, problems: []string{"allowlist-source-range"}},
		{name: "allowlist empty fails closed", in: map[string]string{"whitelist-source-range": ""},
			want: func(r *Result) { r.Policy.DenyAll = true }, problems: []string{"whitelist-source-range"}},
		{name: "balance least", in: map[string]string{"load-balance": "least_request"}, want: func(r *Result) { r.Policy.Balance = route.LeastRequest }},
		{name: "balance ewma", in: map[string]string{"load-balance": "ewma"}, want: func(r *Result) { r.Policy.Balance = route.LeastRequest }},
		{name: "balance rr", in: map[string]string{"load-balance": "round_robin"}, want: func(*Result) {}},
		{name: "balance bad", in: map[string]string{"load-balance": "random"}, want: func(*Result) {}, problems: []string{"load-balance"}},
		{name: "unknown real nginx key", in: map[string]string{"configuration-snippet": "more_set_headers x"}, want: func(*Result) {},
			problems: []string{"configuration-snippet"}},
	}
}

// TestParseBothSpellings runs every case under each prefix.
func TestParseBothSpellings(t *testing.T) {
	for _, prefix := range []string{RudderPrefix, NginxPrefix} {
		for _, tc := range keyCases() {
			t.Run(prefix+tc.name, func(t *testing.T) {
				in := map[string]string{"other.io/whatever": "x", "kubernetes.io/ingress.class": "rudder"}
				for k, v := range tc.in {
					in[prefix+k] = v
				}
				want := defaults()
				tc.want(&want)
				got := Parse(in)
				var keys []string
				for _, p := range got.Problems {
					keys = append(keys, strings.TrimPrefix(p.Key, prefix))
					if p.Message == "" {
						t.Errorf("problem %s has no message", p.Key)
					}
				}
				if diff := cmp.Diff(tc.problems, keys); diff != "" {
					t.Errorf("problems (-want +got):\n%s\n%v", diff, got.Problems)
				}
				got.Problems = nil
				if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestPrecedence(t *testing.T) {
	got := Parse(map[string]string{
		NginxPrefix + "proxy-body-size":  "8k",
		RudderPrefix + "proxy-body-size": "16k",
		NginxPrefix + "limit-rps":        "5",
		RudderPrefix + "limit-rps":       "bad", // rudder wins even when invalid: default
		NginxPrefix + "ssl-redirect":     "false",
	})
	if got.Policy.BodyLimit != 16<<10 {
		t.Errorf("BodyLimit = %d, want rudder.io's 16k", got.Policy.BodyLimit)
	}
	if got.Policy.LimitRPS != 0 {
		t.Errorf("LimitRPS = %d, want the default after rudder.io's invalid value", got.Policy.LimitRPS)
	}
	if got.Policy.SSLRedirect {
		t.Error("nginx spelling alone not honoured")
	}
	if len(got.Problems) != 1 || got.Problems[0].Key != RudderPrefix+"limit-rps" || got.Problems[0].Unknown {
		t.Errorf("problems = %v", got.Problems)
	}
}

func TestProblemsSortedAndUnknown(t *testing.T) {
	got := Parse(map[string]string{
		RudderPrefix + "zzz":           "1",
		NginxPrefix + "server-snippet": "x",
		RudderPrefix + "aaa":           "1",
	})
	var keys []string
	for _, p := range got.Problems {
		keys = append(keys, p.Key)
		if !p.Unknown {
			t.Errorf("%s: want unknown, got %q", p.Key, p.Message)
		}
	}
	want := []string{NginxPrefix + "server-snippet", RudderPrefix + "aaa", RudderPrefix + "zzz"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Error(diff)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"512", 512, true}, {"8k", 8192, true}, {"8K", 8192, true},
		{"1m", 1 << 20, true}, {"10M", 10 << 20, true}, {"1g", 1 << 30, true}, {" 2k ", 2048, true},
		{"", 0, false}, {"k", 0, false}, {"1.5m", 0, false}, {"-1", 0, false}, {"+1", 0, false},
		{"1mb", 0, false}, {"9999999999999g", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"60", time.Minute, true}, {"0", 0, true}, {"60s", time.Minute, true}, {"1m30s", 90 * time.Second, true},
		{"500ms", 500 * time.Millisecond, true}, {"", 0, false}, {"-1", 0, false}, {"-1s", 0, false},
		{"sixty", 0, false}, {"1.5", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestInertOptions: options of a feature that is off are reported, not
// silently ignored; with the feature on they are not.
func TestInertOptions(t *testing.T) {
	opts := map[string]string{
		NginxPrefix + "cors-allow-origin":    "https://a.com",
		RudderPrefix + "session-cookie-name": "route",
	}
	var keys []string
	for _, p := range Parse(opts).Problems {
		keys = append(keys, p.Key)
		if p.Unknown || !strings.Contains(p.Message, "no effect without") {
			t.Errorf("%s: %q, want a known key without effect", p.Key, p.Message)
		}
	}
	if diff := cmp.Diff([]string{NginxPrefix + "cors-allow-origin", RudderPrefix + "session-cookie-name"}, keys); diff != "" {
		t.Error(diff)
	}
	opts[RudderPrefix+"enable-cors"] = "true"
	opts[RudderPrefix+"affinity"] = "cookie"
	if got := Parse(opts); len(got.Problems) != 0 {
		t.Errorf("problems with the features on: %+v", got.Problems)
	}
}
