package generator

import (
	"strings"
	"testing"
)

func TestLocalSettingsAreOnlyEverAppended(t *testing.T) {
	ours := "APP_ENV=development\nSECRET_KEY=mine\n# DATABASE_URL=postgresql://x\nMY_OWN=1"
	theirs := "APP_ENV=development\nSECRET_KEY=fresh\n\n# The provider.\n# Second line.\nOIDC_ISSUER=http://x\nOIDC_CLIENT_ID=c\n\n# DATABASE_URL=sqlite\nDATABASE_URL=other\n"
	got, added := appendMissingSettings(ours, theirs, "set auth=oidc")
	if strings.Join(added, ",") != "OIDC_ISSUER,OIDC_CLIENT_ID" {
		t.Errorf("added %v", added)
	}
	want := ours + "\n\n# Added by rampart set auth=oidc: settings it needs that this file did not have.\n# The provider.\n# Second line.\nOIDC_ISSUER=http://x\nOIDC_CLIENT_ID=c\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if again, more := appendMissingSettings(got, theirs, "set auth=oidc"); again != got || len(more) != 0 {
		t.Errorf("a second run appended %v", more)
	}
}
