package breach

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// ErrIncomplete is matched by an [*IncompleteError]: a notice that cannot
// be finalised because content its regime requires is missing.
var ErrIncomplete = errors.New("breach: notice is incomplete")

// IncompleteError reports the content a notice lacks, each piece with the
// provision that requires it.
type IncompleteError struct {
	Regime  string
	Party   Party
	Missing []Requirement
}

// Error returns a message such as `breach: the gdpr authority notice is
// missing Records (GDPR Art. 33(3)(a)); Contact (GDPR Art. 33(3)(b))`.
func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "breach: the %s %s notice is missing ", e.Regime, e.Party)
	for i, r := range e.Missing {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s (%s", r.Field, r.Citation)
		if r.Heading != "" {
			fmt.Fprintf(&b, ", heading %q", r.Heading)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is [ErrIncomplete].
func (e *IncompleteError) Is(target error) bool { return target == ErrIncomplete }

// Notice is a rendered notice: the authority report or the subject notice
// of one regime, in one language, as plain text and HTML. It holds the
// incident's facts and the organisation's contact point, and nothing about
// any one subject: delivery addresses it.
type Notice struct {
	Incident string // the incident's ID
	Version  int    // the incident's version it was built from
	Regime   string
	Party    Party
	Lang     string
	Final    bool   // false for a draft built with NoticeOptions.Draft
	Subject  string // the title, used as an e-mail subject
	Text     string
	HTML     string
}

// NoticeOptions configure [BuildNotice]. The zero value (or nil) is the
// default.
type NoticeOptions struct {
	// Lang is the language: "en" (the default), "pt" or "af". An unknown
	// language is an error.
	Lang string
	// At is when the notice is given, for the check of lateness; zero is
	// time.Now.
	At time.Time
	// Organisation names the controller in the notice.
	Organisation string
	// Draft renders the notice even if required content is missing, marking
	// the gaps; the Notice is then not Final.
	Draft bool
	// Text and HTML replace the built-in templates. They are executed with
	// a [NoticeData] and must refer to every field the regime requires
	// (e.g. {{.Consequences}}), or to .Sections, which holds them all: one
	// that does not is refused, naming the field.
	Text *template.Template
	HTML *htmltemplate.Template
	// Calendars are used for deadlines in working days, as in
	// [Options.Calendars].
	Calendars map[string]*Calendar
	// Duty chooses, by its citation, among duties of the regime to the
	// same party: India's DPDP Rules ask for an intimation to the Board
	// without delay ("DPDP Rules 2025 r.7(2)(a)") and a detailed report
	// within 72 hours ("DPDP Rules 2025 r.7(2)(b)"). Empty: the first
	// duty that applies to the incident, in the regime's order.
	Duty string
}

// NoticeData is what notice templates are executed with. Its fields named
// as [Field] values hold the incident's content as text.
type NoticeData struct {
	Title        string
	Intro        string
	Organisation string
	Sections     []Section // the content, in order, with headings
	Closing      string

	Nature, Description, OccurredFrom, DataCategories, SubjectGroups, Records string
	Contact, Consequences, MeasuresTaken, SubjectAdvice, DelayReason          string
}

// Section is one heading and its body in a notice.
type Section struct {
	Field   Field
	Heading string
	Body    string
	Missing bool // the content is required and missing (drafts only)
}

// BuildNotice renders the notice of the duty of regime to party for inc.
// Unless opts.Draft is set, it refuses to finalise a notice while content
// the regime requires is missing and returns an [*IncompleteError] naming
// every missing field with its citation (GDPR Art. 33(3)(a)-(d), POPIA
// s22(5), California's required headings); a notice after a deadline that
// asks for reasons needs [Incident.DelayReason]. An unknown regime returns
// an error matching [ErrUnknownRegime]; a regime that asks nothing of the
// party for inc, an error saying so.
func BuildNotice(inc Incident, regime string, party Party, opts *NoticeOptions) (Notice, error) {
	if opts == nil {
		opts = &NoticeOptions{}
	}
	lang := opts.Lang
	if lang == "" {
		lang = "en"
	}
	lb, ok := labels[lang]
	if !ok {
		return Notice{}, fmt.Errorf("breach: unknown notice language %q (known: en, pt, af)", lang)
	}
	reg, err := LookupRegime(regime)
	if err != nil {
		return Notice{}, err
	}
	if _, ok := inc.Jurisdiction(regime); !ok {
		return Notice{}, fmt.Errorf("breach: the incident does not involve %s (no Jurisdiction %q)", reg.Name, regime)
	}
	obs, err := obligations(&inc, opts.Calendars)
	if err != nil {
		return Notice{}, err
	}
	var ob *Obligation
	var duties []string
	for i := range obs {
		if obs[i].Regime.ID == regime && obs[i].Party == party {
			duties = append(duties, strconv.Quote(obs[i].Citation))
			if ob == nil && (opts.Duty == "" || opts.Duty == obs[i].Citation) {
				ob = &obs[i]
			}
		}
	}
	if ob == nil && len(duties) > 0 {
		return Notice{}, fmt.Errorf("breach: %s has no %s duty %q for this incident (it has %s)", reg.Name, party, opts.Duty, strings.Join(duties, ", "))
	}
	if ob == nil {
		return Notice{}, fmt.Errorf("breach: %s asks for no %s notice for this incident", reg.Name, party)
	}
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	missing := ob.Missing(&inc, at)
	if len(missing) > 0 && !opts.Draft {
		return Notice{}, &IncompleteError{Regime: regime, Party: party, Missing: missing}
	}
	data := noticeData(&inc, ob, lb, opts.Organisation, missing)
	n := Notice{Incident: inc.ID, Version: inc.Version, Regime: regime, Party: party, Lang: lang, Final: len(missing) == 0, Subject: data.Title}
	textT, htmlT := opts.Text, opts.HTML
	if textT == nil {
		textT = builtinText
	} else if err := usesFields("Text", textT.Tree, ob.Required); err != nil {
		return Notice{}, err
	}
	if htmlT == nil {
		htmlT = builtinHTML
	} else if err := usesFields("HTML", htmlT.Tree, ob.Required); err != nil {
		return Notice{}, err
	}
	var b strings.Builder
	if err := textT.Execute(&b, data); err != nil {
		return Notice{}, fmt.Errorf("breach: render text notice: %w", err)
	}
	n.Text = b.String()
	b.Reset()
	if err := htmlT.Execute(&b, data); err != nil {
		return Notice{}, fmt.Errorf("breach: render HTML notice: %w", err)
	}
	n.HTML = b.String()
	return n, nil
}

// order is the order of sections in a notice.
var order = []Field{FieldDescription, FieldOccurred, FieldNature, FieldDataCategories, FieldSubjectGroups, FieldRecords,
	FieldConsequences, FieldMeasures, FieldSubjectAdvice, FieldUnauthorisedParty, FieldDelayReason, FieldContact}

// subjectFacing are the fields a subject notice shows even if its regime
// does not require them.
var subjectFacing = []Field{FieldDescription, FieldOccurred, FieldDataCategories, FieldConsequences, FieldMeasures, FieldSubjectAdvice, FieldUnauthorisedParty, FieldContact}

func noticeData(inc *Incident, ob *Obligation, lb *lang, org string, missing []Requirement) NoticeData {
	d := NoticeData{Organisation: org, Closing: lb.closing}
	if org == "" {
		d.Organisation = lb.organisation
	}
	if ob.Party == Authority {
		d.Closing = ""
		d.Title = fmt.Sprintf(lb.authorityTitle, ob.Regime.Name)
		d.Intro = fmt.Sprintf(lb.authorityIntro, d.Organisation, ob.Recipient, ob.Citation, inc.ID)
	} else {
		d.Title = lb.subjectTitle
		d.Intro = fmt.Sprintf(lb.subjectIntro, d.Organisation)
	}
	headings := map[Field]string{}
	for _, r := range ob.Required {
		if r.Heading != "" && headings[r.Field] == "" {
			headings[r.Field] = r.Heading
			if ob.Party == Subjects && lb.code == "en" {
				d.Title = "Notice of Data Breach" // Cal. Civ. Code 1798.82(d)(1)
			}
		}
	}
	text := fieldText(inc, lb)
	d.Nature, d.Description, d.OccurredFrom = text[FieldNature], text[FieldDescription], text[FieldOccurred]
	d.DataCategories, d.SubjectGroups, d.Records = text[FieldDataCategories], text[FieldSubjectGroups], text[FieldRecords]
	d.Contact, d.Consequences, d.MeasuresTaken = text[FieldContact], text[FieldConsequences], text[FieldMeasures]
	d.SubjectAdvice, d.DelayReason = text[FieldSubjectAdvice], text[FieldDelayReason]
	for _, f := range order {
		required := slices.ContainsFunc(ob.Required, func(r Requirement) bool { return r.Field == f })
		isMissing := slices.ContainsFunc(missing, func(r Requirement) bool { return r.Field == f })
		show := required || isMissing || text[f] != "" && (ob.Party == Authority || slices.Contains(subjectFacing, f))
		if !show {
			continue
		}
		h := headings[f]
		if h == "" && ob.Party == Authority {
			h = lb.authorityHeadings[f]
		}
		if h == "" {
			h = lb.headings[f]
		}
		s := Section{Field: f, Heading: h, Body: text[f]}
		if isMissing {
			s.Body, s.Missing = fmt.Sprintf(lb.missing, f), true
		}
		if s.Body != "" {
			d.Sections = append(d.Sections, s)
		}
	}
	return d
}

// fieldText renders each field of inc as text in the language.
func fieldText(inc *Incident, lb *lang) map[Field]string {
	t := map[Field]string{
		FieldDescription:       inc.Description,
		FieldConsequences:      inc.Consequences,
		FieldSubjectAdvice:     inc.SubjectAdvice,
		FieldDelayReason:       inc.DelayReason,
		FieldUnauthorisedParty: inc.UnauthorisedParty,
	}
	var ns []string
	for _, n := range inc.Nature {
		ns = append(ns, lb.natures[n])
	}
	t[FieldNature] = strings.Join(ns, ", ")
	if !inc.OccurredFrom.IsZero() {
		s := inc.OccurredFrom.UTC().Format("2006-01-02 15:04 MST")
		if !inc.OccurredTo.IsZero() {
			s += " – " + inc.OccurredTo.UTC().Format("2006-01-02 15:04 MST")
		}
		t[FieldOccurred] = s
	}
	t[FieldDataCategories] = strings.Join(inc.DataCategories, ", ")
	var gs []string
	for _, g := range inc.SubjectGroups {
		gs = append(gs, fmt.Sprintf(lb.about, g.Category, g.Approx))
	}
	t[FieldSubjectGroups] = strings.Join(gs, "; ")
	if inc.Records > 0 {
		t[FieldRecords] = fmt.Sprintf(lb.records, inc.Records)
	}
	var ms []string
	if inc.MeasuresTaken != "" {
		ms = append(ms, inc.MeasuresTaken)
	}
	if inc.MeasuresProposed != "" {
		ms = append(ms, lb.proposed+" "+inc.MeasuresProposed)
	}
	t[FieldMeasures] = strings.Join(ms, "\n")
	var cs []string
	for _, c := range []string{inc.Contact.Name, inc.Contact.Email, inc.Contact.Phone} {
		if c != "" {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 && (inc.Contact.Email != "" || inc.Contact.Phone != "") {
		t[FieldContact] = strings.Join(cs, ", ")
	}
	return t
}

// usesFields checks that a host's template refers to every required field.
func usesFields(which string, tree *parse.Tree, required []Requirement) error {
	used := map[string]bool{}
	if tree != nil {
		walk(tree.Root, used)
	}
	var missing []Requirement
	for _, r := range required {
		if !used[string(r.Field)] && !used["Sections"] {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var names []string
	for _, r := range missing {
		names = append(names, string(r.Field)+" ("+r.Citation+")")
	}
	return fmt.Errorf("breach: the %s template does not use required field %s", which, strings.Join(names, ", "))
}

// walk collects the field names a template refers to.
func walk(n parse.Node, used map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, used)
		}
	case *parse.ActionNode:
		walk(n.Pipe, used)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, used)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, used)
		}
	case *parse.FieldNode:
		for _, id := range n.Ident {
			used[id] = true
		}
	case *parse.IfNode:
		walk(n.Pipe, used)
		walk(n.List, used)
		walk(n.ElseList, used)
	case *parse.RangeNode:
		walk(n.Pipe, used)
		walk(n.List, used)
		walk(n.ElseList, used)
	case *parse.WithNode:
		walk(n.Pipe, used)
		walk(n.List, used)
		walk(n.ElseList, used)
	}
}

const textSource = `{{.Title}}

{{.Intro}}
{{range .Sections}}
{{.Heading}}
{{.Body}}
{{end}}
{{.Closing}}
{{.Organisation}}
`

const htmlSource = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif">
<h1>{{.Title}}</h1>
<p>{{.Intro}}</p>
{{range .Sections}}<h2>{{.Heading}}</h2>
<p style="white-space: pre-line"{{if .Missing}} class="missing"{{end}}>{{.Body}}</p>
{{end}}<p>{{.Closing}}<br>{{.Organisation}}</p>
</body></html>
`

var (
	builtinText = template.Must(template.New("notice.txt").Parse(textSource))
	builtinHTML = htmltemplate.Must(htmltemplate.New("notice.html").Parse(htmlSource))
)

// lang holds the words of notices in one language.
type lang struct {
	code                           string
	authorityTitle, authorityIntro string
	subjectTitle, subjectIntro     string
	organisation, closing, missing string
	about, records, proposed       string
	headings                       map[Field]string
	authorityHeadings              map[Field]string // where a report to an authority words a heading otherwise
	natures                        map[Nature]string
}

var labels = map[string]*lang{
	"en": {
		code:           "en",
		authorityTitle: "Personal data breach report (%s)",
		authorityIntro: "%s reports a personal data breach to %s under %s. Our reference: %s.",
		subjectTitle:   "Notice of a personal data breach",
		subjectIntro:   "We are writing to tell you about an incident at %s that involves information about you.",
		organisation:   "The controller",
		closing:        "We are sorry for this incident.",
		missing:        "[missing: %s]",
		about:          "%s: about %d",
		records:        "about %d records",
		proposed:       "Further measures proposed:",
		headings: map[Field]string{
			FieldDescription: "What happened", FieldOccurred: "When it happened", FieldNature: "Nature of the breach",
			FieldDataCategories: "What information was involved", FieldSubjectGroups: "Who is affected", FieldRecords: "Records concerned",
			FieldConsequences: "Likely consequences", FieldMeasures: "What we are doing", FieldSubjectAdvice: "What you can do",
			FieldUnauthorisedParty: "Who obtained the information", FieldDelayReason: "Reasons for the delay", FieldContact: "For more information",
		},
		authorityHeadings: map[Field]string{
			FieldSubjectAdvice: "Advice to the data subjects", FieldUnauthorisedParty: "Identity of the unauthorised person",
		},
		natures: map[Nature]string{
			Confidentiality: "confidentiality breach", Integrity: "integrity breach", Availability: "availability breach",
			Loss: "loss", Damage: "damage", Destruction: "unauthorised destruction", UnlawfulAccess: "unlawful access",
			UnlawfulProcessing: "unlawful processing",
		},
	},
	"pt": {
		code:           "pt",
		authorityTitle: "Comunicação de incidente de segurança com dados pessoais (%s)",
		authorityIntro: "%s comunica a %s um incidente de segurança com dados pessoais, nos termos de %s. Nossa referência: %s.",
		subjectTitle:   "Aviso de incidente de segurança com dados pessoais",
		subjectIntro:   "Escrevemos para informar sobre um incidente em %s que envolve dados pessoais seus.",
		organisation:   "O controlador",
		closing:        "Lamentamos o ocorrido.",
		missing:        "[em falta: %s]",
		about:          "%s: cerca de %d",
		records:        "cerca de %d registros",
		proposed:       "Outras medidas previstas:",
		headings: map[Field]string{
			FieldDescription: "O que aconteceu", FieldOccurred: "Quando aconteceu", FieldNature: "Natureza do incidente",
			FieldDataCategories: "Quais dados foram envolvidos", FieldSubjectGroups: "Quem foi afetado", FieldRecords: "Registros envolvidos",
			FieldConsequences: "Riscos e consequências prováveis", FieldMeasures: "O que estamos fazendo", FieldSubjectAdvice: "O que você pode fazer",
			FieldUnauthorisedParty: "Quem obteve os dados", FieldDelayReason: "Motivos da demora", FieldContact: "Para mais informações",
		},
		authorityHeadings: map[Field]string{
			FieldSubjectAdvice: "Recomendações aos titulares", FieldUnauthorisedParty: "Identidade de quem obteve os dados",
		},
		natures: map[Nature]string{
			Confidentiality: "violação de confidencialidade", Integrity: "violação de integridade", Availability: "violação de disponibilidade",
			Loss: "perda", Damage: "dano", Destruction: "destruição não autorizada", UnlawfulAccess: "acesso ilícito",
			UnlawfulProcessing: "tratamento ilícito",
		},
	},
	"af": {
		code:           "af",
		authorityTitle: "Verslag oor 'n kompromie van persoonlike inligting (%s)",
		authorityIntro: "%s stel %s in kennis van 'n kompromie van persoonlike inligting ingevolge %s. Ons verwysing: %s.",
		subjectTitle:   "Kennisgewing van 'n kompromie van persoonlike inligting",
		subjectIntro:   "Ons skryf om u in te lig oor 'n voorval by %s wat inligting oor u raak.",
		organisation:   "Die verantwoordelike party",
		closing:        "Ons is jammer oor hierdie voorval.",
		missing:        "[ontbreek: %s]",
		about:          "%s: ongeveer %d",
		records:        "ongeveer %d rekords",
		proposed:       "Verdere voorgestelde maatreëls:",
		headings: map[Field]string{
			FieldDescription: "Wat het gebeur", FieldOccurred: "Wanneer dit gebeur het", FieldNature: "Aard van die kompromie",
			FieldDataCategories: "Watter inligting betrokke was", FieldSubjectGroups: "Wie geraak word", FieldRecords: "Rekords betrokke",
			FieldConsequences: "Moontlike gevolge", FieldMeasures: "Wat ons doen", FieldSubjectAdvice: "Wat u kan doen",
			FieldUnauthorisedParty: "Wie die inligting verkry het", FieldDelayReason: "Redes vir die vertraging", FieldContact: "Vir meer inligting",
		},
		authorityHeadings: map[Field]string{
			FieldSubjectAdvice: "Raad aan die datasubjekte", FieldUnauthorisedParty: "Identiteit van die ongemagtigde persoon",
		},
		natures: map[Nature]string{
			Confidentiality: "vertroulikheid geskend", Integrity: "integriteit geskend", Availability: "beskikbaarheid geskend",
			Loss: "verlies", Damage: "skade", Destruction: "ongemagtigde vernietiging", UnlawfulAccess: "onregmatige toegang",
			UnlawfulProcessing: "onregmatige verwerking",
		},
	},
}

// Languages returns the codes of the built-in notice languages.
func Languages() []string {
	out := make([]string, 0, len(labels))
	for k := range labels {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
