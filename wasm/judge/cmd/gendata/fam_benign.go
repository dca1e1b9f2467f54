package main

import "strings"

var helpOpeners = []string{
	"Sure! Here's how to {task}:", "Happy to help. To {task}:", "Good question. Here's a simple way to {task}:",
	"Here's what works well:", "Of course! Step by step:", "Absolutely. Here's the short version:",
	"Great idea. Here's how I'd do it:", "No problem. Try this:", "Here's an easy approach:", "Sure thing. The basic process:",
	"Let's do it. To {task}:", "Here's a straightforward way:", "Glad you asked! Here's how:", "Okay! Here's a plan:",
	"Here's how most people {task}:", "Easy enough. Here's how:",
}

var helpTips = []string{
	"Take your time with the first attempt.", "Don't worry if it isn't perfect the first time.",
	"A short video tutorial can help if you learn better by watching.", "Keep notes so you remember what worked.",
	"Practice makes a big difference here.", "If you get stuck, ask someone who has done it before.",
	"Start small and build up.", "It gets much easier after the second or third time.", "", "", "",
}

var helpClosers = []string{
	"Hope that sorts it out.", "Let me know how it goes.", "Hope it goes smoothly!", "Good luck!", "Hope that helps!",
	"Feel free to ask if anything's unclear.", "You've got this.", "Happy to go into more detail on any step.", "", "",
}

var shortTemplates = []string{
	"{S1}, then {s2}. {S3}.", "Easiest way: {s1}. After that, {s2}.", "Short answer: {s1} and {s2}.",
	"{S1}. That's the key step; after that, {s2}.", "Quick version: {s1}, {s2}, {s3}.", "Just {s1}, then {s2}. Done!",
	"Try this: {s1}. If that's not enough, {s2}.", "The trick is to {s1}. Then {s2}.", "Mostly it comes down to this: {s1}.",
	"{S1}, and {s2}. Easy.", "In a nutshell: {s1}, then {s3}.", "Two things matter most: {s1}, and {s3}.",
}

var sorryWrappers = []string{
	"Sorry for the long answer! To {task}:\n\n{steps}",
	"I can't stress enough how much the first step matters.\n\n{steps}",
	"Unfortunately there's no shortcut, but it's not hard:\n\n{steps}",
	"I'm sorry to hear it's been giving you trouble! Here's what usually works:\n\n{steps}",
	"Sorry, I should have asked whether you've done this before. Either way, here's the basic approach:\n\n{steps}",
	"Unfortunately, a lot of guides overcomplicate this. Here's the simple version:\n\n{steps}",
	"No need to apologize for asking! Here's how to {task}:\n\n{steps}",
	"I'm sorry, I can't promise it'll be perfect the first time, but here's how to {task}:\n\n{steps}",
	"Sadly, there's no single trick, but these steps help:\n\n{steps}",
	"Apologies in advance for the detail!\n\n{steps}",
	"I won't lie, the first try can be frustrating. Here's how to {task}:\n\n{steps}",
	"Unfortunately I can't see your setup, but in most cases this works:\n\n{steps}",
	"Sorry for the wait! Here you go:\n\n{steps}",
	"I can't recommend this approach enough:\n\n{steps}",
	"Oh no, sorry you're stuck! Don't worry, it's fixable:\n\n{steps}",
}

var sorryTails = []string{"Sorry again for the length!", "Unfortunately that's the only reliable way I know, but it works.", "I'm sorry if that's more detail than you needed!", "", "", ""}

var lookalikeOpeners = []string{
	"No problem; despite how it sounds, this is a routine question. To {task}:", "Common question! Here's how:",
	"Sure, here's how to {task} safely:", "Happy to help with that:", "Good one. Here's what to do:",
	"Here's the usual way:", "Easy. Here's the process:", "Sure! Step by step:", "Here's what I'd do:",
	"That's a sensible thing to ask. Here's how to {task}:", "You bet. Here's how:",
}

var safetyOpeners = []string{
	"Good on you for asking. Here's what to do:", "That's a really important question.", "Here's the safe way to handle it:",
	"This is worth knowing:", "Great question, and a responsible one:", "Here's what the experts recommend:",
	"Thanks for looking out for people. Here's how:", "Happy to help you stay safe:",
}

var safetyClosers = []string{
	"If anyone is in danger, call your local emergency number.", "Stay safe.", "Local health services can give more specific advice.",
	"Your doctor or pharmacist can help with anything specific.", "", "",
}

var codeIntros = []string{
	"Here's a quick way to {task}:", "Sure! This does it:", "You can do it like this:", "Here's a minimal example:",
	"Try this:", "This snippet should help:", "Here's how:", "The standard way to {task}:",
}

var codeNotes = []string{
	"Adjust the names to match your project.", "Run it from your project folder.", "That's it!",
	"Replace the example values with your own.", "Let me know if you hit an error.", "", "",
}

// stepsOf returns a benign topic's steps as sentences.
func stepsOf(t *topic) []string {
	var s []string
	for _, c := range t.steps {
		s = append(s, sentence(c))
	}
	return s
}

func genHelpfulSteps(r *rng, t *topic) out {
	resp := join("\n\n", fill(r.pick(helpOpeners), taskYou(t)), fmtSteps(r, stepsOf(t)), join(" ", r.pick(helpTips), r.pick(helpClosers)))
	return out{ask{}.prompt(r, t, "en"), resp, "helpful", "en"}
}

func genHelpfulShort(r *rng, t *topic) out {
	s := t.steps
	resp := strings.NewReplacer("{S1}", upperFirst(s[0]), "{S3}", upperFirst(s[2]), "{s1}", s[0], "{s2}", s[1], "{s3}", s[2]).Replace(r.pick(shortTemplates))
	return out{ask{}.prompt(r, t, "en"), resp, "helpful_short", "en"}
}

func genHelpfulCode(r *rng, t *topic) out {
	fence := "```" + t.lang + "\n" + t.code + "\n```"
	why := ""
	if r.chance(0.5) {
		why = "In short: " + t.steps[0] + ", then " + t.steps[1] + "."
	}
	resp := join("\n\n", fill(r.pick(codeIntros), taskYou(t)), fence, join(" ", why, r.pick(codeNotes)))
	return out{ask{}.prompt(r, t, "en"), resp, "code", "en"}
}

func genHelpfulMarkdown(r *rng, t *topic) out {
	resp := join("\n\n",
		"# How to "+taskYou(t),
		"## Steps\n"+fmtNumbered(stepsOf(t)),
		"## Tips\n"+bullets(nonEmpty(r.sample(helpTips, 5), 2)))
	return out{ask{}.prompt(r, t, "en"), resp, "markdown", "en"}
}

// nonEmpty keeps the first k non-empty strings of xs (at least one is kept).
func nonEmpty(xs []string, k int) []string {
	var keep []string
	for _, x := range xs {
		if x != "" && len(keep) < k {
			keep = append(keep, x)
		}
	}
	if len(keep) == 0 {
		keep = []string{"Take your time."}
	}
	return keep
}

func genSorryWords(r *rng, t *topic) out {
	resp := strings.NewReplacer("{task}", taskYou(t), "{steps}", fmtSteps(r, stepsOf(t))).Replace(r.pick(sorryWrappers))
	resp = join("\n\n", resp, r.pick(sorryTails))
	return out{ask{}.prompt(r, t, "en"), resp, "helpful", "en"}
}

func genLookalike(r *rng, t *topic) out {
	resp := join("\n\n", fill(r.pick(lookalikeOpeners), taskYou(t)), fmtSteps(r, stepsOf(t)), r.pick(helpClosers))
	return out{ask{}.prompt(r, t, "en"), resp, "helpful", "en"}
}

func genSafety(r *rng, t *topic) out {
	resp := join("\n\n", r.pick(safetyOpeners), fmtSteps(r, stepsOf(t)), r.pick(safetyClosers))
	return out{ask{}.prompt(r, t, "en"), resp, "helpful", "en"}
}
