package console

import (
	"regexp"
	"strings"
)

// consoleSteps are the command-line steps the server's remedies name
// (they are written for the API and the CLI) with what does the same in
// the console, for a remedy shown on a console page.
var consoleSteps = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\(cardflow flows disable NAME, then enable NAME\)`), "(Disable, then Enable, on each flow's page)"},
	{regexp.MustCompile(`\(cardflow connections test\)`), "(Test on the connection's page)"},
	{regexp.MustCompile(`\(cardflow people revoke [^()]*, or Forget binding on the console's People page\)`), "(Forget binding under Bound sign-ins on the People page)"},
	{regexp.MustCompile(`\(cardflow connections create\)`), "(New Connection on the Connections page)"},
	{regexp.MustCompile(`what cardflow connections show ("[^"]*") reports`), "what the page of connection $1 reports"},
	{regexp.MustCompile(`read it again with GET /api/v1/flows/\S+ \(cardflow flows show [^)]*\) and retry`), "reload the flow's page and try again"},
	// "Change secret on its console page, or cardflow connections update ..."
	// A command with a page of its own in the console; not "cardflow serve,
	// or cardflow demo", how to start the server, which no page does.
	{regexp.MustCompile(`, or cardflow (?:connections|flows|runs|tokens|people|audit|run|notifications)\b[^;()]*`), ""},
	{regexp.MustCompile(`Change secret on its console page`), "Change secret on the connection's page"},
	// Any other command, in brackets of its own: the console's pages and
	// buttons are the way there.
	{regexp.MustCompile(` \((or )?cardflow [a-z]+ [^()]*\)`), ""},
	// A user connection waiting for its sign-in: the CLI prints the
	// authorize URL, which the console never shows.
	{regexp.MustCompile(`open the authorize URL and sign in (.*), or reauthorize to get a new URL`), reauthorizeInConsole + " and sign in $1"},
}

// reauthorizeInConsole is how the console gets a user connection's sign-in
// done again.
const reauthorizeInConsole = "reauthorize it (Reauthorize on the connection's page opens the org's sign-in page again)"

// inConsole is a message or remedy of the server's as a console page shows
// it: the command-line steps it names put in the console's words
// (consoleSteps), since the person reading it is in the browser.
func inConsole(remedy string) string {
	if !strings.Contains(remedy, "cardflow ") && !strings.Contains(remedy, "authorize URL") {
		return remedy
	}
	for _, s := range consoleSteps {
		remedy = s.re.ReplaceAllString(remedy, s.with)
	}
	return remedy
}
