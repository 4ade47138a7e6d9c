package breach

import "time"

// location loads a time zone, falling back to a fixed zone at fallback
// hours from UTC where the system has no time-zone database. The fallback
// is the zone's summer offset where it has one: the day then ends earlier
// in absolute time, so a deadline is never computed later than the law's.
func location(name string, fallback int) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.FixedZone(name, fallback*3600)
}

// req builds requirements sharing a citation prefix.
func req(cite string, pairs ...any) []Requirement {
	var out []Requirement
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Requirement{Field: pairs[i].(Field), Citation: cite + pairs[i+1].(string)})
	}
	return out
}

var (
	gdprAuthorityContent = func(law string) []Requirement {
		return req(law+" Art. 33(3)",
			FieldNature, "(a)", FieldDataCategories, "(a)", FieldSubjectGroups, "(a)", FieldRecords, "(a)",
			FieldContact, "(b)", FieldConsequences, "(c)", FieldMeasures, "(d)")
	}
	gdprSubjectContent = func(law string) []Requirement {
		return append(req(law+" Art. 34(2)", FieldDescription, ""),
			req(law+" Art. 34(2) with 33(3)", FieldContact, "(b)", FieldConsequences, "(c)", FieldMeasures, "(d)")...)
	}
	// popiaContent is s22(5)(a)-(c); (d), the identity of the unauthorised
	// person, is required only if known, and so is not checked.
	popiaContent = append(req("POPIA s22(5)", FieldConsequences, "(a)", FieldMeasures, "(b)", FieldSubjectAdvice, "(c)"),
		Requirement{Field: FieldDescription, Citation: "POPIA s22(5): sufficient information to allow the data subject to take protective measures"})
	// californiaContent is Civ. Code 1798.82(d): the notice is titled
	// "Notice of Data Breach" and has these headings.
	californiaContent = []Requirement{
		{Field: FieldDescription, Citation: "Cal. Civ. Code 1798.82(d)(2)(E)", Heading: "What Happened"},
		{Field: FieldOccurred, Citation: "Cal. Civ. Code 1798.82(d)(2)(C)", Heading: "What Happened"},
		{Field: FieldDataCategories, Citation: "Cal. Civ. Code 1798.82(d)(2)(B)", Heading: "What Information Was Involved"},
		{Field: FieldMeasures, Citation: "Cal. Civ. Code 1798.82(d)(1)", Heading: "What We Are Doing"},
		{Field: FieldSubjectAdvice, Citation: "Cal. Civ. Code 1798.82(d)(1)", Heading: "What You Can Do"},
		{Field: FieldContact, Citation: "Cal. Civ. Code 1798.82(d)(2)(A)", Heading: "For More Information"},
	}
	hipaaContent = req("45 CFR 164.404(c)(1)",
		FieldDescription, "(A)", FieldOccurred, "(A)", FieldDataCategories, "(B)", FieldSubjectAdvice, "(C)",
		FieldMeasures, "(D)", FieldContact, "(E)")
	lgpdContent = req("ANPD Resolution CD/ANPD 15/2024 art. 6",
		FieldNature, "", FieldDataCategories, "", FieldSubjectGroups, "", FieldConsequences, "", FieldMeasures, "", FieldContact, "")
	dpdpSubjectContent = req("DPDP Rules 2025 r.7(1)",
		FieldDescription, "(a)", FieldConsequences, "(b)", FieldMeasures, "(c)", FieldSubjectAdvice, "(d)", FieldContact, "(e)")
	// dpdpBoardContent is r.7(2)(b)(i)-(iii): updated and detailed
	// information, the facts and reasons, and the measures; (iv)-(vi)
	// (the person who caused it, remedies against recurrence, the report
	// on notices to Data Principals) have no field of their own and go in
	// the description.
	dpdpBoardContent = req("DPDP Rules 2025 r.7(2)(b)",
		FieldDescription, "(i)-(ii)", FieldMeasures, "(iii)")
	pdpaContent = req("PDPA s26D; Personal Data Protection (Notification of Data Breaches) Regulations 2021 reg. 5",
		FieldDescription, "", FieldSubjectGroups, "", FieldDataCategories, "", FieldConsequences, "", FieldMeasures, "", FieldContact, "")
	// kenyaContent is s43(5)(a)-(c) and (e); (d), the identity of the
	// unauthorised person, is required only where applicable, and so is
	// not checked.
	kenyaContent = req("Kenya Data Protection Act 2019 s43(5)",
		FieldNature, "(a)", FieldMeasures, "(b)", FieldSubjectAdvice, "(c)", FieldContact, "(e)")
	nigeriaContent = req("Nigeria Data Protection Act 2023 s40",
		FieldNature, "", FieldDataCategories, "", FieldSubjectGroups, "", FieldContact, "", FieldConsequences, "", FieldMeasures, "")
)

const asapNote = "no fixed deadline: the obligation is due at once and should be met as soon as possible"

// regimes are the built-in regimes, by ID.
var regimes = func() map[string]*Regime {
	utc := time.UTC
	brasilia := location("America/Sao_Paulo", -3)
	rs := []*Regime{
		{
			ID: "gdpr", Name: "GDPR", Law: "Regulation (EU) 2016/679", Location: utc,
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the competent supervisory authority", Citation: "GDPR Art. 33(1)",
					Clock: FromAwareness, Deadline: Deadline{Kind: Hours, N: 72, Words: "without undue delay and, where feasible, not later than 72 hours after having become aware of it"},
					MinRisk: SomeRisk, Required: gdprAuthorityContent("GDPR"), DelayCitation: "GDPR Art. 33(1)",
					Note: "not required where the breach is unlikely to result in a risk (Risk none); information may be given in phases (Art. 33(4))",
				},
				{
					Party: Subjects, Recipient: "the data subjects", Citation: "GDPR Art. 34(1)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "without undue delay"},
					MinRisk: HighRisk, Required: gdprSubjectContent("GDPR"),
					Note: "only for a high risk; the exceptions of Art. 34(3) (encrypted data, later measures, disproportionate effort) are for the controller to judge and record",
				},
			},
		},
		{
			ID: "uk-gdpr", Name: "UK GDPR", Law: "UK GDPR and Data Protection Act 2018", Location: location("Europe/London", 1),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the Information Commissioner's Office", Citation: "UK GDPR Art. 33(1)",
					Clock: FromAwareness, Deadline: Deadline{Kind: Hours, N: 72, Words: "without undue delay and, where feasible, not later than 72 hours after having become aware of it"},
					MinRisk: SomeRisk, Required: gdprAuthorityContent("UK GDPR"), DelayCitation: "UK GDPR Art. 33(1)",
					Note: "not required where the breach is unlikely to result in a risk (Risk none)",
				},
				{
					Party: Subjects, Recipient: "the data subjects", Citation: "UK GDPR Art. 34(1)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "without undue delay"},
					MinRisk: HighRisk, Required: gdprSubjectContent("UK GDPR"),
				},
			},
		},
		{
			ID: "popia", Name: "POPIA", Law: "Protection of Personal Information Act 4 of 2013 (South Africa)", Location: location("Africa/Johannesburg", 2),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the Information Regulator", Citation: "POPIA s22(1)(a), s22(2)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "as soon as reasonably possible after the discovery of the compromise"},
					Required: popiaContent,
					Note:     "s22 has no risk threshold: it applies where there are reasonable grounds to believe the information was accessed or acquired by an unauthorised person. " + asapNote,
				},
				{
					Party: Subjects, Recipient: "the data subjects", Citation: "POPIA s22(1)(b), s22(2)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "as soon as reasonably possible after the discovery of the compromise"},
					Required: popiaContent,
					Note:     "not required where the identity of the subjects cannot be established; may be delayed only if a public body or the Regulator determines that notification will impede a criminal investigation (s22(3))",
				},
			},
		},
		{
			ID: "us-ca", Name: "California", Law: "California Civil Code 1798.82", Location: location("America/Los_Angeles", -7),
			Duties: []Duty{
				{
					Party: Subjects, Recipient: "the affected California residents", Citation: "Cal. Civ. Code 1798.82(a)",
					Clock: FromAwareness, Deadline: Deadline{Kind: CalendarDays, N: 30, Words: "in the most expedient time possible and without unreasonable delay, within 30 calendar days of discovery"},
					MinSubjects: 1, Required: californiaContent,
					Note: "the 30-day limit is that of the 2025 amendment (SB 446); a delay at the request of law enforcement (1798.82(c)) is not modelled. Applies to unencrypted personal information as 1798.82(h) defines it, which the host judges",
				},
				{
					Party: Authority, Recipient: "the California Attorney General", Citation: "Cal. Civ. Code 1798.82(f)",
					Clock: FromAwareness, Deadline: Deadline{Kind: CalendarDays, N: 30, Words: "a sample copy of the notice, when more than 500 residents are notified"},
					MinSubjects: 501, Required: californiaContent,
					Note: "simplified conservatively to the residents' deadline: the law asks for the sample copy within 15 days of notifying the residents, which is never earlier",
				},
			},
		},
		{
			ID: "hipaa", Name: "HIPAA", Law: "45 CFR Part 164 Subpart D", Location: location("America/New_York", -4),
			Duties: []Duty{
				{
					Party: Subjects, Recipient: "the affected individuals", Citation: "45 CFR 164.404(b)",
					Clock: FromAwareness, Deadline: Deadline{Kind: CalendarDays, N: 60, Words: "without unreasonable delay and in no case later than 60 calendar days after discovery"},
					MinRisk: SomeRisk, MinSubjects: 1, Required: hipaaContent,
					Note: "a breach is presumed unless a risk assessment shows a low probability of compromise (164.402): record that as Risk none. Days end in US Eastern time; media notice (164.406, more than 500 residents of a State) is not modelled",
				},
				{
					Party: Authority, Recipient: "the Secretary of HHS", Citation: "45 CFR 164.408(b)",
					Clock: FromAwareness, Deadline: Deadline{Kind: CalendarDays, N: 60, Words: "contemporaneously with the notice to individuals, for 500 or more individuals"},
					MinRisk: SomeRisk, MinSubjects: 500, Required: hipaaContent,
				},
				{
					Party: Authority, Recipient: "the Secretary of HHS (annual log)", Citation: "45 CFR 164.408(c)",
					Clock: FromAwareness, Deadline: Deadline{Kind: AfterYearEnd, N: 60, Words: "not later than 60 days after the end of each calendar year, for fewer than 500 individuals"},
					MinRisk: SomeRisk, MinSubjects: 1, MaxSubjects: 499, Required: hipaaContent,
					Note: "the calendar year is taken as that of discovery",
				},
			},
		},
		{
			ID: "lgpd", Name: "LGPD", Law: "Lei 13.709/2018 art. 48 and ANPD Resolution CD/ANPD 15/2024", Location: brasilia,
			WorkingDays: MustCalendar(brasilia),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the ANPD (Autoridade Nacional de Proteção de Dados)", Citation: "ANPD Resolution 15/2024 art. 6",
					Clock: FromAwareness, Deadline: Deadline{Kind: WorkingDays, N: 3, Words: "within 3 working days of becoming aware that the incident affected personal data"},
					MinRisk: SomeRisk, Required: lgpdContent, DelayCitation: "LGPD art. 48 §1(VI)",
					Note: "applies to incidents that may cause relevant risk or damage to the subjects (LGPD art. 48). Working days exclude weekends and the holidays given in Options.Calendars[\"lgpd\"]; the default knows none. Small processing agents have twice the time (Resolution 2/2022 art. 14), which is not modelled",
				},
				{
					Party: Subjects, Recipient: "the data subjects", Citation: "ANPD Resolution 15/2024 art. 9",
					Clock: FromAwareness, Deadline: Deadline{Kind: WorkingDays, N: 3, Words: "within 3 working days of becoming aware"},
					MinRisk: SomeRisk, Required: lgpdContent,
				},
			},
		},
		{
			ID: "dpdp", Name: "India DPDP", Law: "Digital Personal Data Protection Act 2023 s8(6) and DPDP Rules 2025 r.7", Location: location("Asia/Kolkata", 5),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the Data Protection Board of India (intimation)", Citation: "DPDP Rules 2025 r.7(2)(a)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "without delay"},
					Required: req("DPDP Rules 2025 r.7(2)(a)", FieldDescription, ""),
					Note:     "every breach, whatever the risk. Rule 7 comes into force 18 months after the Rules were notified (November 2025), that is in May 2027; before then the Act's s8(6) duty stands without the Rules' timelines. " + asapNote,
				},
				{
					Party: Authority, Recipient: "the Data Protection Board of India (detailed report)", Citation: "DPDP Rules 2025 r.7(2)(b)",
					Clock: FromAwareness, Deadline: Deadline{Kind: Hours, N: 72, Words: "within 72 hours of becoming aware, or a longer period the Board allows"},
					Required: dpdpBoardContent,
					Note:     "the intimation and the detailed report are both recorded as authority notifications; Done is the first given, so record the report's time as the one that counts",
				},
				{
					Party: Subjects, Recipient: "the affected Data Principals", Citation: "DPDP Rules 2025 r.7(1)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "without delay"},
					Required: dpdpSubjectContent,
				},
			},
		},
		{
			ID: "pdpa-sg", Name: "Singapore PDPA", Law: "Personal Data Protection Act 2012 Part 6A", Location: location("Asia/Singapore", 8),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the Personal Data Protection Commission", Citation: "PDPA s26D(1)",
					Clock: FromAssessment, Deadline: Deadline{Kind: CalendarDays, N: 3, Words: "as soon as practicable, but in any case no later than 3 calendar days after the day the organisation assesses the breach notifiable"},
					MinRisk: HighRisk, OrMinSubjects: 500, Required: pdpaContent,
					Note: "notifiable if it results in, or is likely to result in, significant harm (recorded as Risk high) or affects 500 or more individuals (s26B). The assessment itself must be made in a reasonable and expeditious manner (s26C; the Commission's guidelines expect it within 30 days). Until AssessedAt is set the clock counts from AwareAt, the earliest it could start",
				},
				{
					Party: Subjects, Recipient: "the affected individuals", Citation: "PDPA s26D(2)",
					Clock: FromAssessment, Deadline: Deadline{Kind: ASAP, Words: "on or after notifying the Commission, as soon as practicable"},
					MinRisk: HighRisk, Required: pdpaContent,
					Note: "only where significant harm is likely; not before notifying the Commission",
				},
			},
		},
		{
			ID: "kenya", Name: "Kenya DPA", Law: "Data Protection Act 2019 (Kenya) s43", Location: location("Africa/Nairobi", 3),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the Data Commissioner", Citation: "Kenya Data Protection Act 2019 s43(1)(a)",
					Clock: FromAwareness, Deadline: Deadline{Kind: Hours, N: 72, Words: "without delay, within 72 hours of becoming aware"},
					MinRisk: SomeRisk, Required: kenyaContent, DelayCitation: "Kenya Data Protection Act 2019 s43(2)",
					Note: "applies where there is a real risk of harm to the subjects",
				},
				{
					Party: Subjects, Recipient: "the data subjects", Citation: "Kenya Data Protection Act 2019 s43(1)(b)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "in writing within a reasonably practical period"},
					MinRisk: SomeRisk, Required: kenyaContent,
					Note: "not required where the identity of the subjects cannot be established. " + asapNote,
				},
			},
		},
		{
			ID: "ndpa", Name: "Nigeria NDPA", Law: "Nigeria Data Protection Act 2023 s40", Location: location("Africa/Lagos", 1),
			Duties: []Duty{
				{
					Party: Authority, Recipient: "the Nigeria Data Protection Commission", Citation: "Nigeria Data Protection Act 2023 s40(2)",
					Clock: FromAwareness, Deadline: Deadline{Kind: Hours, N: 72, Words: "within 72 hours of becoming aware"},
					MinRisk: SomeRisk, Required: nigeriaContent,
					Note: "applies where the breach is likely to result in a risk to the rights and freedoms of individuals",
				},
				{
					Party: Subjects, Recipient: "the data subjects", Citation: "Nigeria Data Protection Act 2023 s40(3)",
					Clock: FromAwareness, Deadline: Deadline{Kind: ASAP, Words: "immediately, in plain and clear language"},
					MinRisk: HighRisk, Required: nigeriaContent,
					Note: "only for a high risk. " + asapNote,
				},
			},
		},
	}
	m := make(map[string]*Regime, len(rs))
	for _, r := range rs {
		m[r.ID] = r
	}
	return m
}()
