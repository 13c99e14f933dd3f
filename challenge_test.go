package htgate

import "testing"

func TestChallengeString(t *testing.T) {
	tests := []struct {
		in   Challenge
		want string
	}{
		{Challenge{Scheme: "Basic", Params: []Param{{Name: "realm", Value: "Members"}, {Name: "charset", Value: "UTF-8"}}}, `Basic realm="Members", charset="UTF-8"`},
		{Challenge{Scheme: "Basic", Params: []Param{{Name: "realm", Value: `say "hi" \o/`}}}, `Basic realm="say \"hi\" \\o/"`},
		{Challenge{Scheme: "Digest", Params: []Param{{Name: "realm", Value: "r"}, {Name: "algorithm", Value: "SHA-256", Token: true}, {Name: "stale", Value: "true", Token: true}}}, `Digest realm="r", algorithm=SHA-256, stale=true`},
		{Challenge{Scheme: "Basic", Params: []Param{{Name: "realm", Value: "a\r\nSet-Cookie: x"}}}, `Basic realm="aSet-Cookie: x"`},
		{Challenge{Scheme: "Bearer"}, `Bearer`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}
