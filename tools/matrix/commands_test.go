package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/rampart-dev/rampart/blueprints"
	"github.com/rampart-dev/rampart/generator"
	"github.com/rampart-dev/rampart/templates"
)

func flask(t *testing.T) *generator.Blueprint {
	t.Helper()
	all, err := generator.LoadBlueprints(blueprints.Manifests, templates.FS, "(devel)")
	if err != nil {
		t.Fatal(err)
	}
	return all["flask"]
}

func answers() generator.Answers {
	return generator.Answers{
		"name": "shop", "package": "shop", "description": `It's "quoted"; $(touch /tmp/pwned) and a \ too`,
		"database": "sqlite", "cache": "memcached", "auth": "oidc", "deploy": "vm", "ci": "gitlab",
	}
}

// The facts survive the shell: eval gives back every answer and attribute
// byte for byte, free text included, and runs nothing.
func TestFactsAreShellAssignmentsThatRoundTrip(t *testing.T) {
	var out bytes.Buffer
	if err := printFacts(&out, flask(t), answers()); err != nil {
		t.Fatal(err)
	}
	script := "set -eu\neval \"$(cat)\"\nprintf '%s\\n' \"$answer_description\" \"$choice_database_scheme\" \"$choice_deploy_proxy_config\" \"$choice_auth_login\" \"$choice_cache_server\"\n"
	cmd := exec.Command("bash", "-c", script)
	cmd.Stdin = &out
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, got)
	}
	want := answers()["description"] + "\nsqlite\ndeploy/vm/nginx.conf\nprovider\nmemcached\n"
	if string(got) != want {
		t.Errorf("eval gave\n%s\nwant\n%s", got, want)
	}
}

func TestFactsRefuseAnAnswerTheManifestDoesNotOffer(t *testing.T) {
	a := answers()
	a["cache"] = "valkey"
	err := printFacts(&bytes.Buffer{}, flask(t), a)
	if err == nil || !strings.Contains(err.Error(), "cache=valkey is not a choice") {
		t.Fatalf("err = %v", err)
	}
	delete(a, "cache")
	if err := printFacts(&bytes.Buffer{}, flask(t), a); err == nil || !strings.Contains(err.Error(), `no answer to "cache"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestServicesNameEachServerAndItsSetting(t *testing.T) {
	a := answers()
	a["database"] = "postgres"
	var out bytes.Buffer
	if err := printServices(&out, flask(t), a); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "DATABASE_URL\tpostgres\nMEMCACHED_SERVERS\tmemcached\n" {
		t.Errorf("services:\n%s", got)
	}
}

func TestPinIsTheManifestsRequirement(t *testing.T) {
	var out bytes.Buffer
	if err := printPin(&out, flask(t), "UV"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "uv==") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("pin uv: %q", out.String())
	}
	if err := printPin(&bytes.Buffer{}, flask(t), "no-such-tool"); err == nil {
		t.Error("a package the manifest does not pin gave no error")
	}
}
