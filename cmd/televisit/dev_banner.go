package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/televisit/televisit/internal/devoidc"
)

// printBanner tells the developer where everything is. It prints demo
// credentials and a patient link for made-up patients: fine on a
// developer's terminal, never done by `serve`.
func printBanner(w io.Writer, e *devEnv) {
	var b strings.Builder
	rule := strings.Repeat("─", 78)
	fmt.Fprintf(&b, "\n%s\nTelevisit dev server: %s   (Ctrl-C stops it and PostgreSQL)\n%s\n", rule, e.base, rule)
	printStaff(&b, e)
	printPatient(&b, e)
	printAPIClients(&b, e)
	fmt.Fprintf(&b, "\nData: %s (PostgreSQL in %s, PHI key in %s); --fresh starts over.\n%s\n",
		e.opts.dataDir, filepath.Join(e.opts.dataDir, "pg"), filepath.Join(e.opts.dataDir, "phi.key"), rule)
	io.WriteString(w, b.String())
}

func printStaff(b *strings.Builder, e *devEnv) {
	fmt.Fprintf(b, "\nStaff — open %s/auth/login and sign in (all demo users have MFA):\n", e.base)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  role\tusername\tpassword\tname")
	for _, u := range e.oidc.Users {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", strings.Join(u.Roles, ","), u.Username, u.Password, u.Name)
	}
	tw.Flush()
	fmt.Fprintf(b, "  Scheduler: sign in as %q. Clinician: sign in as %q (in a private window to be both).\n",
		"scheduler", "clinician")
}

func printPatient(b *strings.Builder, e *devEnv) {
	d := e.demo
	fmt.Fprintf(b, "\nPatient — a link issued just now for %s (visit at %s, %s):\n  %s\n",
		d.PatientName, d.StartsAt.Local().Format("15:04"), d.Clinic.Name, d.PatientURL)
	fmt.Fprintf(b, "  Date of birth for the identity check: %s\n", d.PatientDOB)
}

func printAPIClients(b *strings.Builder, e *devEnv) {
	fmt.Fprint(b, "\nAPI clients (OAuth client credentials; secrets change at every start):\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	var example devoidc.Client
	for _, c := range e.oidc.Clients {
		if !c.Credentials {
			continue
		}
		if example.ID == "" {
			example = c
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.ID, strings.Join(c.Roles, ","), c.Secret)
	}
	tw.Flush()
	fmt.Fprintf(b, "  Get a token and call the API:\n")
	fmt.Fprintf(b, "    TOKEN=$(curl -s -u %s:%s -d grant_type=client_credentials %s | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n",
		example.ID, example.Secret, tokenEndpoint(e))
	fmt.Fprintf(b, "    curl -H \"Authorization: Bearer $TOKEN\" %s/api/v1/clinics\n", e.base)
}

// tokenEndpoint is the development provider's token endpoint.
func tokenEndpoint(e *devEnv) string { return e.oidc.Issuer + "/oauth/token" }
