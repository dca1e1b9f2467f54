package main

// Topic pools.
var (
	allHarm    = topicsWhere(harmTopics, func(*topic) bool { return true })
	methodHarm = topicsWhere(harmTopics, func(t *topic) bool { return t.kind != "write" })
	codeHarm   = topicsWhere(harmTopics, func(t *topic) bool { return t.kind == "code" })
	mailHarm   = topicsWhere(harmTopics, func(t *topic) bool { return t.art == "email" || t.art == "message" })
	textHarm   = topicsWhere(harmTopics, func(t *topic) bool { return t.kind == "write" && t.art != "email" && t.art != "message" })
	helpHarm   = topicsWhere(harmTopics, func(t *topic) bool { return helplineCats[t.cat] })
	reduceHarm = topicsWhere(harmTopics, func(t *topic) bool { return harmReductionKey(t) != "" })

	allBenign    = topicsWhere(benignTopics, func(*topic) bool { return true })
	plainBenign  = topicsWhere(benignTopics, func(t *topic) bool { return t.kind == "everyday" || t.kind == "code" })
	codeBenign   = topicsWhere(benignTopics, func(t *topic) bool { return t.code != "" })
	lookBenign   = topicsWhere(benignTopics, func(t *topic) bool { return t.kind == "lookalike" })
	safetyBenign = topicsWhere(benignTopics, func(t *topic) bool { return t.kind == "safety" })
	riskyBenign  = topicsWhere(benignTopics, func(t *topic) bool { return t.kind == "lookalike" || t.kind == "safety" })
)

// families are the template families, in output order. Counts keep every family under 5%
// of the corpus even with no written rows (about 5,000 templated rows).
var families = []family{
	// unsafe: a harmful request and a response that gives the help
	{"steps_compliance", unsafe, 170, methodHarm, genSteps},
	{"list_compliance", unsafe, 130, methodHarm, genList},
	{"markdown_guide_compliance", unsafe, 120, methodHarm, genMarkdown},
	{"code_skeleton_compliance", unsafe, 130, codeHarm, genCode},
	{"email_artifact", unsafe, 100, mailHarm, genArtifact},
	{"text_artifact", unsafe, 160, textHarm, genArtifact},
	{"roleplay_dan_compliance", unsafe, 150, allHarm, genRoleplay},
	{"fiction_character_explains", unsafe, 140, methodHarm, genFiction},
	{"hypothetical_compliance", unsafe, 140, methodHarm, genHypothetical},
	{"historical_compliance", unsafe, 120, methodHarm, genHistorical},
	{"refuse_then_comply", unsafe, 150, allHarm, genRefuseThenComply},
	{"disclaimer_then_comply", unsafe, 140, allHarm, genDisclaimer},
	{"partial_compliance", unsafe, 120, methodHarm, genPartial},
	{"compliance_multilingual", unsafe, 150, methodHarm, genComplyMultilingual},
	{"casual_compliance", unsafe, 130, methodHarm, genCasual},
	{"terse_compliance", unsafe, 130, methodHarm, genTerseComply},
	{"off_topic_answer", neither, 110, allHarm, genOffTopic},
	// refusal: a harmful request declined
	{"refusal_terse", refuses, 150, allHarm, genTerse},
	{"refusal_apologetic", refuses, 160, allHarm, genApologetic},
	{"refusal_policy", refuses, 150, allHarm, genPolicy},
	{"refusal_helpline", refuses, 110, helpHarm, genHelpline},
	{"refusal_in_character", refuses, 120, allHarm, genInCharacter},
	{"safe_redirect", refuses, 160, allHarm, genRedirect},
	{"long_refusal_discussion", refuses, 120, allHarm, genLongRefusal},
	{"refusal_harm_reduction", refuses, 100, reduceHarm, genHarmReduction},
	{"refusal_es", refuses, 90, allHarm, genRefusalIn("es")},
	{"refusal_fr", refuses, 90, allHarm, genRefusalIn("fr")},
	{"refusal_de", refuses, 90, allHarm, genRefusalIn("de")},
	{"refusal_ja", refuses, 90, allHarm, genRefusalIn("ja")},
	{"refusal_zh", refuses, 90, allHarm, genRefusalIn("zh")},
	// refusal of a benign request
	{"over_refusal", refuses, 180, riskyBenign, genOverRefusal},
	// neither: a benign request answered
	{"helpful_benign_steps", neither, 200, plainBenign, genHelpfulSteps},
	{"helpful_benign_short", neither, 180, allBenign, genHelpfulShort},
	{"helpful_benign_code", neither, 150, codeBenign, genHelpfulCode},
	{"helpful_benign_markdown", neither, 120, allBenign, genHelpfulMarkdown},
	{"helpful_benign_multilingual", neither, 150, allBenign, genHelpfulMultilingual},
	{"helpful_with_sorry_words", neither, 160, allBenign, genSorryWords},
	{"benign_lookalike_helpful", neither, 200, lookBenign, genLookalike},
	{"helpful_harm_reduction", neither, 100, safetyBenign, genSafety},
}
