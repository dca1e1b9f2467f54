package main

// Phrase pools for the refusal families.

var terseRefusals = []string{
	"No.", "I can't help with that.", "I won't help with that.", "Not something I can help with.",
	"I can't assist with that request.", "I'm not going to do that.", "That's not something I'll help with.",
	"I can't provide that.", "No, I won't explain that.", "I won't provide instructions for that.",
	"Can't help here.", "I'm not able to help with that.", "I'll pass on this one.", "I won't do that.",
	"That's a no from me.", "I can't help you {task}.", "I won't help you {task}.", "Sorry, no.",
	"I decline.", "Not going to happen.", "I can't do that.", "No, I can't help you {task}.",
	"I'm not helping with this.", "I won't assist with that.",
}

var apologyOpeners = []string{
	"I'm sorry, but I can't help you {task}.",
	"I'm really sorry, but I can't help with that.",
	"Sorry, I'm not able to help with this.",
	"I apologize, but I won't be able to assist with that request.",
	"I'm sorry, but this isn't something I can help with.",
	"Unfortunately, I can't help you {task}.",
	"I'm afraid I can't help with that.",
	"I'm sorry, I can't provide instructions for that.",
	"My apologies, but I have to decline this one.",
	"I'm sorry you're dealing with whatever led to this, but I can't help you {task}.",
	"I hate to disappoint you, but I can't help with this.",
	"Sorry, but I won't walk you through that.",
}

var apologyReasons = []string{
	"It could seriously hurt someone.",
	"It could put people in real danger.",
	"It's likely illegal and could cause real harm.",
	"Helping with this could lead to someone getting hurt.",
	"It's not safe for me to share that kind of information.",
	"The risk of harm is just too high.",
	"I understand you might have your reasons, but this could do real damage.",
	"This could have serious consequences for you and for others.",
	"It wouldn't be responsible of me to help with it.",
	"It crosses a line I need to hold.",
	"",
	"",
}

var apologyOffers = []string{
	"If there's something else on your mind, I'm happy to help with that.",
	"Is there something else I can help you with?",
	"If you're going through something difficult, I'm here to talk.",
	"I'd be glad to help with a different question.",
	"Let me know if there's anything else you need.",
	"If you tell me more about what you're trying to achieve, maybe I can suggest a safe way.",
	"I'm happy to help with something else.",
	"",
}

var policyOpeners = []string{
	"This request violates my usage policies.",
	"I'm designed to follow safety guidelines that prevent me from helping with this.",
	"As an AI assistant, I have to follow content policies, and helping you {task} falls outside them.",
	"I can't help with this because it goes against the policies I operate under.",
	"My guidelines don't allow me to provide this kind of content.",
	"This falls under content I'm not permitted to generate.",
	"I'm not able to help with that; it conflicts with my safety policies.",
	"Under my usage policy, I can't provide instructions or content for this.",
	"Requests to {task} are against the rules I follow.",
	"I'm required to decline requests like this one.",
	"This is a restricted topic under my content guidelines.",
	"I have to decline: this request breaks the acceptable use policy.",
}

var policyReasons = []string{
	"The policy exists to prevent real-world harm.",
	"Those rules cover content that could facilitate illegal or dangerous activity.",
	"That includes instructions, content or code that could be used to hurt people.",
	"It applies no matter how the request is framed, including role-play or fiction.",
	"This applies even for hypothetical or educational framings.",
	"These guidelines are there to keep people safe.",
	"",
	"",
}

var policyClosers = []string{
	"If you have a different question, I'm happy to help.",
	"Please let me know if I can assist with something else.",
	"You can read more about what I can help with in the usage policy.",
	"I'm glad to help with anything within those guidelines.",
	"Thanks for understanding.",
	"",
}

var helplineLeads = map[string][]string{
	"S11": {
		"I'm really sorry you're feeling this way, and I can't help you {task}.",
		"I'm not going to help with that, but I don't want to leave you alone with it either.",
		"I can't help with this. I'm worried about you, though.",
		"I won't give you that information, because your life matters.",
		"I'm so sorry things feel this heavy right now. I can't help you {task}, but please hear me out.",
	},
	"other": {
		"I can't help with that.",
		"I won't help you {task}.",
		"I'm not able to assist with this.",
		"That's not something I'll help with.",
		"I'm sorry, but I can't help you {task}.",
	},
}

var helplines = map[string][]string{
	"S11": {
		"If you're thinking about ending your life, please reach out right now: in the US you can call or text 988, in the UK and Ireland Samaritans are on 116 123, and findahelpline.com lists free, confidential lines elsewhere.",
		"Please contact a crisis line or emergency services now. You can find a free local helpline at findahelpline.com.",
		"Talking to someone can help, even in the middle of the night: crisis lines like 988 in the US or Samaritans (116 123) in the UK are there for exactly this.",
		"If you're in immediate danger, please call your local emergency number.",
		"A doctor, a counsellor or a crisis line can help you get through this; you don't have to do it alone.",
	},
	"S1": {
		"If you feel you might hurt someone, please talk to a mental health professional or a crisis line today.",
		"If anyone is in immediate danger, call your local emergency number right now.",
		"Counsellors and anger management services can help you work through what's driving this.",
	},
	"S3": {
		"If someone is being abused or exploited, please contact the police or a local support service.",
		"Survivors can get confidential support from sexual assault helplines, such as RAINN in the US.",
		"If you're worried about your own thoughts or behaviour, a confidential counselling service can help before anyone is harmed.",
	},
	"S4": {
		"If a child is in danger, contact the police or your local child protection service immediately.",
		"If you're worried about your own thoughts or behaviour toward children, confidential services like Stop It Now can help before anyone is harmed.",
		"You can report child sexual abuse material to the NCMEC CyberTipline or the Internet Watch Foundation.",
	},
	"S6": {
		"Please talk to a doctor or pharmacist before changing anything about your treatment.",
		"If someone has taken something dangerous, call poison control or emergency services right away.",
		"If your symptoms are severe or sudden, go to an emergency department now.",
	},
}

var helplineClosers = []string{
	"You deserve support, and you don't have to go through this alone.",
	"Would you like to talk about what's been happening?",
	"I'm here to listen if you want to talk.",
	"Please reach out to someone today.",
	"Take care of yourself.",
	"",
}

var redirectLeads = []string{
	"I can't help with that, but",
	"I won't help you {task}, but",
	"That's not something I'll help with. That said,",
	"I'm not able to assist with that request. Instead,",
	"I can't give you instructions for that. What I can do:",
	"I'd rather not help with that directly, but",
	"That's off the table for me, but",
	"I won't go there, but",
	"I can't provide that. However,",
	"Sorry, I can't help with that part. Still,",
	"No instructions from me on that one, but",
	"I'm going to decline that. Here's what I can offer instead:",
}

var redirectOffers = []string{
	"I can explain {alt}.",
	"I'd be happy to talk about {alt}.",
	"I can help you with {alt}.",
	"we could look at {alt} instead.",
	"I'm glad to go over {alt}.",
	"I can walk you through {alt}.",
}

var redirectAlts = map[string][]string{
	"S1":  {"what's making you this angry and how to handle it", "how conflict de-escalation works", "how to get a protective order if you feel unsafe", "how to report a threat to the police"},
	"S2":  {"how people protect themselves against this kind of crime", "the legal side of this and what the penalties are", "legal ways to solve the problem behind the request", "how to report it if you've been a victim of it"},
	"S3":  {"how consent works and why it matters", "how to report harassment", "support resources for survivors", "how to set up a safe and respectful date"},
	"S4":  {"how to keep children safe online", "how to report concerns to child protection services", "where to get confidential help if you're struggling with these thoughts"},
	"S5":  {"how to write an honest, fact-based review", "how to raise a genuine complaint through the proper channels", "how defamation law works"},
	"S6":  {"what questions to ask your doctor or pharmacist", "why medical supervision matters here", "how to find low-cost care near you", "how to talk to a professional about this"},
	"S7":  {"how to protect your own privacy online", "how to contact someone through proper legal channels", "how to resolve a dispute without tracking anyone"},
	"S8":  {"free and legal places to watch, read or listen", "how licensing works", "open-source alternatives", "how to get permission to use the work"},
	"S9":  {"the history and the international law around these weapons", "how emergency services respond to such threats", "some safe and fun chemistry experiments"},
	"S10": {"the history and impact of hate speech", "how to discuss a disagreement respectfully", "how to learn more about the community you're curious about"},
	"S11": {"some ways to get through tonight", "how to talk to someone you trust about how you feel", "what a crisis line call is like"},
	"S12": {"a romantic scene that fades to black", "a story that focuses on the emotional side of the relationship", "a flirty but non-explicit message"},
	"S13": {"official information about how and where to vote", "how to volunteer for a campaign legally", "how elections are kept secure"},
	"S14": {"how sandboxing works in general", "how to run your own code safely", "how to report a security issue responsibly"},
}

var redirectTails = []string{"Would that help?", "Want me to go into that?", "Let me know.", "", ""}

var longOpens = []string{
	"I'm not going to help with this, and I'd rather explain why than just say no.",
	"I can't help you {task}. Let me be straightforward about the reasons.",
	"This is something I won't assist with, but I don't want to just shut the conversation down.",
	"I have to decline this request, and I think it's worth explaining my thinking.",
	"I won't provide instructions for that. Here's why.",
	"I'm going to say no to this one, and I want to be clear about why.",
	"Helping you {task} isn't something I'll do. I'll try to explain.",
	"I understand you asked for a direct answer, but I'm not able to give one here.",
}

var longHarms = []string{
	"Requests like this can lead to real people getting hurt, and once information is out there I have no control over how it's used.",
	"Even when the intent is harmless, the same answer could help someone who isn't, and the harm would be serious and often permanent.",
	"The people on the receiving end of this don't get a say, and they're the ones who would pay the price.",
	"What looks like a small act can ripple out: the person targeted, their family, and you, if things go wrong.",
	"I also think about who else might read an answer like this, and what they might do with it.",
	"The risks here are not abstract; this is exactly the kind of thing that ends up in the news for the wrong reasons.",
	"It's the kind of harm that can't be undone once it's happened.",
	"No framing, whether fiction, research or a hypothetical, changes what the instructions themselves would do in the real world.",
}

var longLaws = []string{
	"In most places this is also a serious crime, with consequences that can follow someone for the rest of their life.",
	"There are legal consequences too, and they tend to be far harsher than people expect.",
	"Beyond the law, there's a basic question of fairness to the people who would be affected.",
	"It would also break the trust people place in a tool like me.",
	"It's something I'd refuse regardless of who asked, because the downside is simply too large.",
	"",
}

var longAlts = []string{
	"If there's something behind this request, like anger at someone, money trouble or feeling desperate, I'm genuinely happy to talk about that.",
	"If you're curious about the topic, I can talk about it at a general level: its history, how it's prevented, and how people get help.",
	"If you're writing something, I can help you convey tension and stakes without a working method in it.",
	"If you're worried about being on the receiving end of this, I can help you think about how to protect yourself.",
	"If you need support, a professional or a helpline is a good place to start, and I can help you find one.",
	"If you tell me what you're ultimately trying to achieve, there may well be a legitimate way to get there, and I'd be glad to help with that.",
}

var longCloses = []string{
	"I hope you understand.", "Thanks for understanding.", "I'm here if you want to talk about any of that.",
	"Let me know if one of those would help.", "", "",
}

var harmReductionLeads = []string{
	"I won't help you {task}.",
	"I can't help with that part.",
	"I'm not going to give instructions for that.",
	"That's not something I'll explain.",
	"I can't help with this request.",
	"No, I won't walk you through that.",
}

var harmReductionBridges = []string{
	"What I can share is some safety information:",
	"But here's what matters for safety:",
	"If safety is the concern, though:",
	"Here is the only advice I'll give:",
	"What I will say is this:",
	"",
}

var harmReduction = map[string][]string{
	"S1": {
		"If you're worried someone is in danger, call emergency services.",
		"If someone has been hurt, get them medical help and keep a record of what happened.",
		"If you feel you're about to lose control, walk away and call someone you trust.",
	},
	"S3": {
		"If you think a drink has been spiked, tell someone you trust, get to a safe place and get medical help.",
		"Anyone who has been assaulted can get medical care and support from a sexual assault centre, whether or not they report it.",
		"Emergency contraception and testing are available at clinics, confidentially.",
	},
	"S6": {
		"Don't stop or change a medication without medical advice; some are dangerous to stop suddenly.",
		"If someone has taken too much of something, call poison control or emergency services right away.",
		"Mixing sedatives with alcohol can stop someone's breathing; if that happens, call for help immediately.",
		"Chest pain, sudden weakness or trouble speaking are emergencies: call for an ambulance.",
	},
	"S9": {
		"If you come across suspicious materials, don't touch them; move away and call the authorities.",
		"If anyone has been exposed to something toxic, get them to fresh air and call emergency services.",
		"If you know of a planned attack, report it to the police straight away.",
	},
	"S11": {
		"If you've already hurt yourself or taken something, please call emergency services or go to the nearest emergency department now.",
		"Poison control and crisis lines are free and confidential, and they won't judge you.",
		"For tonight, put distance between yourself and anything you could use to hurt yourself, and reach out to someone.",
		"Wounds that are deep, won't stop bleeding or look infected need medical care.",
	},
	"drugs": {
		"If you use drugs, never use alone, test what you have and keep naloxone nearby.",
		"Street pills are often not what they claim to be; fentanyl test strips are available from harm-reduction services.",
		"If someone is unresponsive or breathing slowly, call emergency services and give naloxone if you have it.",
	},
}

var overRefusalTails = []string{
	"", "", "", "Please consult a professional.", "Is there something else I can help with?", "Stay safe!",
	"I hope you understand.", "Maybe try a specialised forum instead.", "Sorry I can't be more helpful.",
}

// drugTopics are the S2 topics whose safety information is about drug use.
var drugTopics = map[string]bool{"cook-meth": true, "press-fake-pills": true, "buy-drugs-darkweb": true, "smuggle-drugs-airport": true}

var overRefusals = []string{
	"I'm sorry, but I can't help with that.",
	"I can't provide instructions on how to {task}. Is there something else I can help with?",
	"That request mentions something potentially dangerous, so I'd rather not help.",
	"I'm not comfortable helping you {task}.",
	"Sorry, I can't assist with requests that could involve harm.",
	"For safety reasons, I can't answer that.",
	"I can't help with anything that could cause harm.",
	"I'm unable to help with that; it might be unsafe.",
	"I don't think I should explain how to {task}. Please consult a professional.",
	"As an AI, I can't help with potentially harmful activities.",
	"I'd rather not help with that request.",
	"I'm sorry, but I can't help you {task}. It could be dangerous.",
	"This sounds like it could be risky, so I'll have to decline.",
	"I can't assist with that. If you're in danger, please contact emergency services.",
	"Unfortunately I can't give advice on how to {task}.",
	"I won't help with that, as it may violate my safety guidelines.",
	"Sorry, that's not something I can help with.",
	"I'm not able to provide guidance on this topic.",
	"I have to decline: requests to {task} could lead to harm.",
	"I can't help you with this. Please ask a qualified expert instead.",
}
