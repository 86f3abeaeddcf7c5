package config

import (
	"strings"
	"testing"

	conf "github.com/elastic/elastic-agent-libs/config"
)

func TestUnpack(t *testing.T) {
	tests := []struct {
		name    string
		cfg     map[string]any
		wantErr string
		check   func(t *testing.T, d Detection)
	}{
		{name: "defaults", cfg: map[string]any{}, check: func(t *testing.T, d Detection) {
			if !d.Rules.Builtin || d.Events != EventsAll || d.Namespace != "default" {
				t.Errorf("defaults = %+v", d)
			}
			if d.AlertIndex() != "logs-webshellbeat.alert-default" || d.EventIndex() != "logs-webshellbeat.event-default" {
				t.Errorf("indices = %s %s", d.AlertIndex(), d.EventIndex())
			}
		}},
		{name: "events none and paths", cfg: map[string]any{"events": "NONE", "rules": map[string]any{"paths": []string{"/etc/rules"}}}, check: func(t *testing.T, d Detection) {
			if d.Events != EventsNone || len(d.Rules.Paths) != 1 {
				t.Errorf("got %+v", d)
			}
		}},
		{name: "unknown key", cfg: map[string]any{"rulez": true}, wantErr: `unknown option "rulez"`},
		{name: "bad events", cfg: map[string]any{"events": "some"}, wantErr: `"some" is not one of all, none`},
		{name: "wrong type", cfg: map[string]any{"rules": map[string]any{"builtin": "maybe"}}, wantErr: "builtin"},
		{name: "no rules at all", cfg: map[string]any{"rules": map[string]any{"builtin": false}}, wantErr: "no rules.paths"},
		{name: "bad namespace", cfg: map[string]any{"namespace": "Prod-1"}, wantErr: `namespace: "Prod-1"`},
		{name: "two problems joined", cfg: map[string]any{"namespace": "a-b", "rules": map[string]any{"builtin": false}}, wantErr: "no rules.paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Unpack(conf.MustNewConfigFrom(tt.cfg))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}
