package breach_test

import (
	htmltemplate "html/template"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward/breach"
)

func missingFields(t *testing.T, err error) []breach.Field {
	t.Helper()
	var ie *breach.IncompleteError
	require.ErrorAs(t, err, &ie)
	require.ErrorIs(t, err, breach.ErrIncomplete)
	var out []breach.Field
	for _, r := range ie.Missing {
		out = append(out, r.Field)
	}
	return out
}

// TestNoticeRefusesMissingContent: each regime's notice names every piece
// of required content that is missing, with its provision, and is built
// once it is there.
func TestNoticeRefusesMissingContent(t *testing.T) {
	at := aware.Add(time.Hour)
	empty := breach.Incident{
		ID: "i-1", AwareAt: aware, Nature: []breach.Nature{breach.Confidentiality}, DataCategories: []string{"user.name"},
		Risk:          breach.HighRisk,
		Jurisdictions: []breach.Jurisdiction{{Regime: "gdpr"}, {Regime: "popia"}, {Regime: "us-ca", Subjects: 10}},
	}
	_, err := breach.BuildNotice(empty, "gdpr", breach.Authority, &breach.NoticeOptions{At: at})
	assert.Equal(t, []breach.Field{breach.FieldSubjectGroups, breach.FieldRecords, breach.FieldContact, breach.FieldConsequences, breach.FieldMeasures}, missingFields(t, err))
	assert.ErrorContains(t, err, "Contact (GDPR Art. 33(3)(b))")
	assert.ErrorContains(t, err, "Records (GDPR Art. 33(3)(a))")

	_, err = breach.BuildNotice(empty, "popia", breach.Subjects, &breach.NoticeOptions{At: at})
	assert.Equal(t, []breach.Field{breach.FieldConsequences, breach.FieldMeasures, breach.FieldSubjectAdvice, breach.FieldDescription}, missingFields(t, err))
	assert.ErrorContains(t, err, "POPIA s22(5)(c)")

	// Kenya s43(5) asks what POPIA's s22(5) does, with the contact point.
	kenya := empty
	kenya.Jurisdictions = []breach.Jurisdiction{{Regime: "kenya"}}
	_, err = breach.BuildNotice(kenya, "kenya", breach.Subjects, &breach.NoticeOptions{At: at})
	assert.Equal(t, []breach.Field{breach.FieldMeasures, breach.FieldSubjectAdvice, breach.FieldContact}, missingFields(t, err))
	assert.ErrorContains(t, err, "Kenya Data Protection Act 2019 s43(5)(c)")

	// India's 72-hour report to the Board: the facts, then the measures.
	dpdp := empty
	dpdp.Jurisdictions = []breach.Jurisdiction{{Regime: "dpdp"}}
	_, err = breach.BuildNotice(dpdp, "dpdp", breach.Authority, &breach.NoticeOptions{At: at})
	assert.Equal(t, []breach.Field{breach.FieldDescription}, missingFields(t, err), "the intimation, the first duty")
	_, err = breach.BuildNotice(dpdp, "dpdp", breach.Authority, &breach.NoticeOptions{At: at, Duty: "DPDP Rules 2025 r.7(2)(b)"})
	assert.Equal(t, []breach.Field{breach.FieldDescription, breach.FieldMeasures}, missingFields(t, err))
	assert.ErrorContains(t, err, "DPDP Rules 2025 r.7(2)(b)(iii)")
	_, err = breach.BuildNotice(dpdp, "dpdp", breach.Authority, &breach.NoticeOptions{At: at, Duty: "r.7(9)"})
	assert.ErrorContains(t, err, `India DPDP has no authority duty "r.7(9)" for this incident (it has "DPDP Rules 2025 r.7(2)(a)", "DPDP Rules 2025 r.7(2)(b)")`)

	_, err = breach.BuildNotice(empty, "us-ca", breach.Subjects, &breach.NoticeOptions{At: at})
	assert.ErrorContains(t, err, `heading "What You Can Do"`)
	assert.ErrorContains(t, err, `heading "For More Information"`)

	full := sample()
	full.ID, full.Risk = "i-2", breach.HighRisk
	full.Jurisdictions = append(full.Jurisdictions, breach.Jurisdiction{Regime: "us-ca", Subjects: 10})
	for _, c := range []struct {
		regime string
		party  breach.Party
	}{{"gdpr", breach.Authority}, {"gdpr", breach.Subjects}, {"popia", breach.Authority}, {"popia", breach.Subjects}, {"us-ca", breach.Subjects}} {
		n, err := breach.BuildNotice(full, c.regime, c.party, &breach.NoticeOptions{At: at})
		require.NoError(t, err, c)
		assert.True(t, n.Final)
	}

	// Late under GDPR: the reasons for the delay are required.
	_, err = breach.BuildNotice(full, "gdpr", breach.Authority, &breach.NoticeOptions{At: aware.Add(80 * time.Hour)})
	assert.Equal(t, []breach.Field{breach.FieldDelayReason}, missingFields(t, err))
	full.DelayReason = "Forensics took four days."
	n, err := breach.BuildNotice(full, "gdpr", breach.Authority, &breach.NoticeOptions{At: aware.Add(80 * time.Hour)})
	require.NoError(t, err)
	assert.Contains(t, n.Text, "Reasons for the delay\nForensics took four days.")
}

// TestNoticeContent: the rendered notice holds the required content under
// its headings, California's prescribed title and headings, in three
// languages, with HTML escaped.
func TestNoticeContent(t *testing.T) {
	inc := sample()
	inc.ID, inc.Risk = "i-3", breach.HighRisk
	inc.Description = "A list was <b>published</b>."
	inc.Jurisdictions = append(inc.Jurisdictions, breach.Jurisdiction{Regime: "us-ca", Subjects: 10})
	opts := &breach.NoticeOptions{At: aware, Organisation: "Acme CRM"}

	n, err := breach.BuildNotice(inc, "gdpr", breach.Authority, opts)
	require.NoError(t, err)
	assert.Equal(t, "Personal data breach report (GDPR)", n.Subject)
	for _, want := range []string{"Acme CRM reports a personal data breach to the competent supervisory authority under GDPR Art. 33(1). Our reference: i-3.",
		"Who is affected\ncustomers: about 1500", "Records concerned\nabout 1500 records", "For more information\nData Protection Officer, dpo@example.com",
		"Likely consequences\nTargeted phishing.", "Further measures proposed: Review of every export job."} {
		assert.Contains(t, n.Text, want)
	}
	assert.Contains(t, n.HTML, "A list was &lt;b&gt;published&lt;/b&gt;.")
	assert.NotContains(t, n.HTML, "<b>published")

	n, err = breach.BuildNotice(inc, "us-ca", breach.Subjects, opts)
	require.NoError(t, err)
	assert.Equal(t, "Notice of Data Breach", n.Subject)
	for _, h := range []string{"What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"} {
		assert.Contains(t, n.Text, "\n"+h+"\n")
		assert.Contains(t, n.HTML, "<h2>"+h+"</h2>")
	}
	assert.NotContains(t, n.Text, "Records concerned", "a subject notice shows what the subject needs")

	n, err = breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: aware, Lang: "af"})
	require.NoError(t, err)
	assert.Equal(t, "Kennisgewing van 'n kompromie van persoonlike inligting", n.Subject)
	assert.Contains(t, n.Text, "Wat u kan doen\nBe wary")
	inc.Jurisdictions = append(inc.Jurisdictions, breach.Jurisdiction{Regime: "lgpd"})
	n, err = breach.BuildNotice(inc, "lgpd", breach.Authority, &breach.NoticeOptions{At: aware, Lang: "pt"})
	require.NoError(t, err)
	assert.Contains(t, n.Text, "O que estamos fazendo\nThe export was removed")
	assert.Equal(t, "pt", n.Lang)
}

// TestNoticeDraft: a draft renders with the gaps marked and is not final.
func TestNoticeDraft(t *testing.T) {
	inc := sample()
	inc.ID, inc.SubjectAdvice = "i-4", ""
	n, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: aware, Draft: true})
	require.NoError(t, err)
	assert.False(t, n.Final)
	assert.Contains(t, n.Text, "What you can do\n[missing: SubjectAdvice]")
	assert.Contains(t, n.HTML, `class="missing"`)
}

// TestNoticeBadInput: an unknown regime, language or party, a regime the
// incident does not involve, and a host template that leaves out a
// required field are each refused, naming it.
func TestNoticeBadInput(t *testing.T) {
	inc := sample()
	inc.ID = "i-5"
	_, err := breach.BuildNotice(inc, "atlantis", breach.Authority, nil)
	assert.ErrorIs(t, err, breach.ErrUnknownRegime)
	_, err = breach.BuildNotice(inc, "gdpr", breach.Authority, &breach.NoticeOptions{Lang: "xx"})
	assert.ErrorContains(t, err, `language "xx"`)
	_, err = breach.BuildNotice(inc, "lgpd", breach.Authority, nil)
	assert.ErrorContains(t, err, `does not involve LGPD`)
	inc.Risk = breach.SomeRisk
	_, err = breach.BuildNotice(inc, "gdpr", breach.Subjects, nil)
	assert.ErrorContains(t, err, "GDPR asks for no subjects notice")

	text := template.Must(template.New("mine").Parse("{{.Title}}\n{{.Description}}\n{{.Consequences}} {{.MeasuresTaken}}\n"))
	_, err = breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: aware, Text: text})
	require.Error(t, err)
	assert.Equal(t, "breach: the Text template does not use required field SubjectAdvice (POPIA s22(5)(c))", err.Error())

	text = template.Must(template.New("mine").Parse("{{.Title}}\n{{.Description}}\n{{.Consequences}} {{.MeasuresTaken}}\n{{if .SubjectAdvice}}{{.SubjectAdvice}}{{end}}"))
	html := htmltemplate.Must(htmltemplate.New("mine").Parse("<h1>{{.Title}}</h1>{{range .Sections}}<p>{{.Body}}</p>{{end}}"))
	n, err := breach.BuildNotice(inc, "popia", breach.Subjects, &breach.NoticeOptions{At: aware, Text: text, HTML: html})
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(n.Text, "Be wary of e-mails asking for your password."))
	assert.Contains(t, n.HTML, "<p>Targeted phishing.</p>")
}
