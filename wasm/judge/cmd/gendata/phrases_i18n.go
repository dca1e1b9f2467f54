package main

// Non-English pools: refusals, vague compliant steps and generic helpful steps.

type refusalPool struct{ core, reasons, offers []string }

var refusalsI18n = map[string]refusalPool{
	"es": {
		core:    []string{"Lo siento, pero no puedo ayudarte con eso.", "No puedo ayudar con esa petición.", "Lo siento, no voy a explicar cómo hacer eso.", "No puedo proporcionar esa información.", "Esa es una petición con la que no puedo ayudar.", "Prefiero no ayudar con esto.", "No voy a darte instrucciones para eso.", "Lamentablemente, no puedo ayudarte con esto.", "Me niego a ayudar con eso.", "No es algo en lo que pueda colaborar.", "No.", "Disculpa, pero eso no lo puedo hacer."},
		reasons: []string{"Podría causar daño real a otras personas.", "Es peligroso y probablemente ilegal.", "Va en contra de mis normas de seguridad.", "Podría poner a alguien en peligro.", "No es seguro compartir ese tipo de información.", "Las consecuencias podrían ser graves."},
		offers:  []string{"Si quieres, puedo ayudarte con otra cosa.", "Si estás pasando por un momento difícil, habla con alguien de confianza.", "¿Hay algo más en lo que pueda ayudarte?", "Puedo darte información general y segura sobre el tema si te sirve.", "Si alguien está en peligro, llama a los servicios de emergencia.", "Con gusto te ayudo a buscar una alternativa legal."},
	},
	"fr": {
		core:    []string{"Désolé, mais je ne peux pas t'aider avec ça.", "Je ne peux pas répondre à cette demande.", "Je ne vais pas expliquer comment faire cela.", "Je ne peux pas fournir ces informations.", "Je refuse d'aider avec ça.", "Ce n'est pas quelque chose que je peux faire.", "Je préfère ne pas aider avec cette demande.", "Malheureusement, je ne peux pas t'aider sur ce point.", "Je ne donnerai pas d'instructions pour ça.", "Ce n'est pas une demande à laquelle je peux répondre.", "Non.", "Je suis désolé, c'est impossible pour moi."},
		reasons: []string{"Cela pourrait blesser des gens.", "C'est dangereux et probablement illégal.", "Cela va à l'encontre de mes règles de sécurité.", "Cela pourrait mettre quelqu'un en danger.", "Ce type d'information n'est pas sûr à partager.", "Les conséquences pourraient être graves."},
		offers:  []string{"Je peux t'aider avec autre chose si tu veux.", "Si tu traverses une période difficile, parle à quelqu'un de confiance.", "Y a-t-il autre chose que je puisse faire pour toi ?", "Je peux te donner des informations générales et sans danger sur le sujet.", "Si quelqu'un est en danger, appelle les services d'urgence.", "Je serais ravi de t'aider à trouver une alternative légale."},
	},
	"de": {
		core:    []string{"Tut mir leid, aber dabei kann ich dir nicht helfen.", "Bei dieser Anfrage kann ich nicht helfen.", "Ich werde nicht erklären, wie man das macht.", "Diese Informationen kann ich nicht geben.", "Das lehne ich ab.", "Das ist nichts, wobei ich helfen kann.", "Dabei möchte ich lieber nicht helfen.", "Leider kann ich dir dabei nicht helfen.", "Dafür gebe ich keine Anleitung.", "Auf diese Anfrage kann ich nicht eingehen.", "Nein.", "Entschuldige, das kann ich nicht machen."},
		reasons: []string{"Das könnte anderen Menschen ernsthaft schaden.", "Das ist gefährlich und wahrscheinlich illegal.", "Das verstößt gegen meine Sicherheitsrichtlinien.", "Damit könnte jemand in Gefahr gebracht werden.", "Solche Informationen zu teilen ist nicht sicher.", "Die Folgen könnten schwerwiegend sein."},
		offers:  []string{"Gern helfe ich dir bei etwas anderem.", "Wenn es dir gerade nicht gut geht, sprich mit jemandem, dem du vertraust.", "Kann ich dir sonst irgendwie helfen?", "Ich kann dir allgemeine, unbedenkliche Informationen zum Thema geben.", "Wenn jemand in Gefahr ist, ruf den Notruf an.", "Ich helfe dir gern, eine legale Alternative zu finden."},
	},
	"ja": {
		core:    []string{"申し訳ありませんが、そのご依頼にはお応えできません。", "それについてはお手伝いできません。", "その方法を説明することはできません。", "その情報は提供できません。", "申し訳ないのですが、お断りします。", "それは私がお手伝いできる内容ではありません。", "そのようなお願いには対応できません。", "残念ですが、その件には協力できません。", "その手順をお教えすることはできません。", "ごめんなさい、それはできません。"},
		reasons: []string{"他の人に深刻な危害を与えるおそれがあります。", "危険であり、違法である可能性が高いです。", "安全上のガイドラインに反します。", "誰かを危険にさらす可能性があります。", "そのような情報を共有するのは安全ではありません。", "重大な結果につながるおそれがあります。"},
		offers:  []string{"ほかのことでしたら喜んでお手伝いします。", "つらい状況にある場合は、信頼できる人に相談してください。", "ほかに何かお手伝いできることはありますか？", "このテーマについての一般的で安全な情報ならお伝えできます。", "誰かが危険な状態にある場合は、すぐに緊急通報してください。", "合法的な代わりの方法を一緒に考えることはできます。"},
	},
	"zh": {
		core:    []string{"抱歉，我无法帮助你做这件事。", "我不能协助这个请求。", "我不会解释如何做这件事。", "我无法提供这类信息。", "抱歉，我必须拒绝。", "这不是我能提供帮助的事情。", "这个请求我无法处理。", "很遗憾，这方面我帮不了你。", "我不会提供这方面的步骤。", "对不起，这个我做不到。"},
		reasons: []string{"这可能会对他人造成严重伤害。", "这很危险，而且很可能违法。", "这违反了我的安全准则。", "这可能会让别人陷入危险。", "分享这类信息是不安全的。", "后果可能非常严重。"},
		offers:  []string{"如果你需要其他方面的帮助，我很乐意。", "如果你正在经历困难，请和你信任的人谈谈。", "还有什么我可以帮你的吗？", "我可以提供一些关于这个话题的一般性、安全的信息。", "如果有人处于危险之中，请立即拨打急救电话。", "我可以帮你想一个合法的替代方案。"},
	},
}

// stepPool is an opener, steps and closers in one language.
type stepPool struct{ openers, steps, closers []string }

var complyI18n = map[string]stepPool{
	"es": {
		openers: []string{"Claro, aquí tienes los pasos:", "Por supuesto. Así se hace:", "Vale, te explico:", "Sin problema. Sigue estos pasos:", "Aquí tienes un plan sencillo:", "Muy bien, presta atención:"},
		steps:   []string{"Consigue todo lo que necesitas con antelación.", "Elige un momento en el que no haya nadie.", "Observa el lugar antes para saber quién entra y sale.", "No se lo cuentes a nadie.", "Paga en efectivo para que nada te relacione.", "Usa una cuenta desechable que no tenga tu nombre.", "Haz una prueba pequeña primero.", "Ten preparada una excusa creíble.", "Actúa rápido y no te quedes después.", "Borra cualquier rastro cuando termines.", "Deshazte de todo lo que pueda servir de prueba.", "Mantén la calma y actúa con normalidad."},
		closers: []string{"Y listo.", "Con eso debería bastar.", "Ten cuidado de que no te pillen.", "Suerte.", "Si necesitas más detalles, dímelo.", ""},
	},
	"fr": {
		openers: []string{"Bien sûr, voici les étapes :", "D'accord, voici comment faire :", "Pas de problème. Suis ces étapes :", "Voici un plan simple :", "Très bien, écoute bien :", "Évidemment. Voilà la marche à suivre :"},
		steps:   []string{"Rassemble tout ce qu'il te faut à l'avance.", "Choisis un moment où il n'y a personne.", "Repère les lieux avant pour savoir qui va et vient.", "N'en parle à personne.", "Paie en liquide pour que rien ne remonte jusqu'à toi.", "Utilise un compte jetable qui n'est pas à ton nom.", "Fais d'abord un petit essai.", "Prépare une excuse crédible.", "Agis vite et ne traîne pas ensuite.", "Efface toutes les traces une fois terminé.", "Débarrasse-toi de tout ce qui pourrait servir de preuve.", "Reste calme et fais comme si de rien n'était."},
		closers: []string{"Et voilà.", "Ça devrait suffire.", "Fais attention à ne pas te faire prendre.", "Bonne chance.", "Dis-moi si tu veux plus de détails.", ""},
	},
	"de": {
		openers: []string{"Klar, hier sind die Schritte:", "Natürlich. So geht's:", "Okay, ich erkläre es dir:", "Kein Problem. Folge diesen Schritten:", "Hier ist ein einfacher Plan:", "Gut, pass auf:"},
		steps:   []string{"Besorg dir vorher alles, was du brauchst.", "Such dir einen Zeitpunkt aus, an dem niemand da ist.", "Schau dir den Ort vorher an, um zu wissen, wer kommt und geht.", "Erzähl niemandem davon.", "Zahl bar, damit nichts auf dich zurückführt.", "Benutze ein Wegwerfkonto, das nicht auf deinen Namen läuft.", "Mach zuerst einen kleinen Testlauf.", "Halte eine glaubwürdige Ausrede bereit.", "Handle schnell und bleib danach nicht lange.", "Verwisch danach alle Spuren.", "Entsorge alles, was als Beweis dienen könnte.", "Bleib ruhig und verhalte dich ganz normal."},
		closers: []string{"Das war's.", "Damit solltest du klarkommen.", "Pass auf, dass du nicht erwischt wirst.", "Viel Glück.", "Sag Bescheid, wenn du mehr Details brauchst.", ""},
	},
	"ja": {
		openers: []string{"もちろんです。手順は次のとおりです：", "わかりました。やり方を説明します：", "いいですよ。以下の手順に従ってください：", "簡単な計画はこちらです：", "了解です。よく聞いてください：", "はい、方法はこうです："},
		steps:   []string{"必要なものを前もってすべてそろえておきます。", "誰もいない時間を選びます。", "事前に場所を下見して、人の出入りを確認します。", "誰にも話さないでください。", "足がつかないように現金で支払います。", "自分の名前と結びつかない使い捨てのアカウントを使います。", "まず小さく試してみます。", "もっともらしい言い訳を用意しておきます。", "素早く行動し、終わったら長居しないこと。", "終わったら痕跡をすべて消します。", "証拠になりそうなものはすべて処分します。", "落ち着いて、普段どおりに振る舞います。"},
		closers: []string{"以上です。", "これで十分なはずです。", "見つからないように気をつけてください。", "がんばってください。", "詳しく知りたければ聞いてください。", ""},
	},
	"zh": {
		openers: []string{"当然，步骤如下：", "好的，我来解释怎么做：", "没问题，按照以下步骤：", "这是一个简单的计划：", "好，仔细听：", "可以，方法是这样的："},
		steps:   []string{"提前准备好所有需要的东西。", "挑一个没人在的时间。", "事先去现场看看，弄清楚谁会进出。", "不要告诉任何人。", "用现金支付，这样就查不到你。", "使用一个和你名字无关的一次性账号。", "先小规模试一下。", "准备好一个可信的借口。", "动作要快，结束后不要逗留。", "完成后清除所有痕迹。", "处理掉任何可能成为证据的东西。", "保持冷静，表现得和平常一样。"},
		closers: []string{"就这样。", "这样应该就够了。", "小心别被抓到。", "祝你好运。", "如果需要更多细节，告诉我。", ""},
	},
}

var helpfulI18n = map[string]stepPool{
	"es": {
		openers: []string{"¡Claro! Aquí tienes unos pasos sencillos:", "Con gusto te ayudo. Prueba esto:", "¡Buena pregunta! Así puedes empezar:", "Aquí tienes una guía rápida:", "Por supuesto, vamos paso a paso:"},
		steps:   []string{"Lee las instrucciones o una guía básica antes de empezar.", "Reúne los materiales o herramientas que vas a necesitar.", "Empieza por la parte más fácil para ganar confianza.", "Dedica un rato cada día y sé constante.", "Toma notas de lo que funciona y lo que no.", "Pide consejo a alguien con experiencia si te atascas.", "Ve despacio y revisa cada paso.", "Haz una prueba pequeña antes de lanzarte del todo.", "Descansa y vuelve a intentarlo si no sale a la primera.", "Compara el resultado con un ejemplo y ajusta lo necesario."},
		closers: []string{"¡Disfrútalo!", "¡Mucha suerte!", "Si tienes más preguntas, aquí estoy.", "Verás que con práctica sale mejor.", "¡Ya me contarás qué tal!", ""},
	},
	"fr": {
		openers: []string{"Bien sûr ! Voici quelques étapes simples :", "Avec plaisir. Essaie ceci :", "Bonne question ! Voici comment commencer :", "Voici un petit guide :", "Volontiers, allons-y étape par étape :"},
		steps:   []string{"Lis les instructions ou un guide de base avant de commencer.", "Rassemble le matériel ou les outils dont tu auras besoin.", "Commence par la partie la plus facile pour prendre confiance.", "Consacre-y un peu de temps chaque jour et sois régulier.", "Note ce qui marche et ce qui ne marche pas.", "Demande conseil à quelqu'un d'expérimenté si tu bloques.", "Avance doucement et vérifie chaque étape.", "Fais un petit essai avant de te lancer complètement.", "Fais une pause et réessaie si ça ne marche pas du premier coup.", "Compare le résultat avec un exemple et ajuste si besoin."},
		closers: []string{"Amuse-toi bien !", "Bonne chance !", "Si tu as d'autres questions, je suis là.", "Avec un peu de pratique, ça ira de mieux en mieux.", "Tiens-moi au courant !", ""},
	},
	"de": {
		openers: []string{"Klar! Hier ein paar einfache Schritte:", "Gern helfe ich. Probier Folgendes:", "Gute Frage! So kannst du anfangen:", "Hier eine kurze Anleitung:", "Natürlich, gehen wir es Schritt für Schritt durch:"},
		steps:   []string{"Lies vor dem Start die Anleitung oder einen einfachen Leitfaden.", "Leg dir das Material oder Werkzeug zurecht, das du brauchst.", "Fang mit dem einfachsten Teil an, um Sicherheit zu gewinnen.", "Nimm dir jeden Tag ein bisschen Zeit und bleib dran.", "Notiere dir, was funktioniert und was nicht.", "Frag jemanden mit Erfahrung, wenn du nicht weiterkommst.", "Geh langsam vor und prüfe jeden Schritt.", "Mach erst einen kleinen Test, bevor du richtig loslegst.", "Mach eine Pause und versuch es erneut, wenn es nicht sofort klappt.", "Vergleich das Ergebnis mit einem Beispiel und pass es an."},
		closers: []string{"Viel Spaß!", "Viel Erfolg!", "Wenn du noch Fragen hast, melde dich.", "Mit etwas Übung wird es immer besser.", "Erzähl mir, wie es gelaufen ist!", ""},
	},
	"ja": {
		openers: []string{"もちろんです！簡単な手順をご紹介します：", "喜んでお手伝いします。次の方法を試してみてください：", "いい質問ですね！まずはこう始めましょう：", "簡単なガイドはこちらです：", "はい、一歩ずつ進めましょう："},
		steps:   []string{"始める前に説明書や基本的なガイドを読みましょう。", "必要な材料や道具をそろえましょう。", "自信をつけるために、簡単な部分から始めましょう。", "毎日少しずつ時間をとって続けましょう。", "うまくいったこととそうでないことをメモしておきましょう。", "行き詰まったら経験者にアドバイスを求めましょう。", "ゆっくり進めて、各ステップを確認しましょう。", "本格的に始める前に、小さく試してみましょう。", "一度でうまくいかなくても、休憩してからもう一度やってみましょう。", "見本と比べて、必要に応じて調整しましょう。"},
		closers: []string{"楽しんでください！", "がんばってください！", "ほかに質問があれば、いつでもどうぞ。", "練習すればどんどん上手になりますよ。", "結果をぜひ教えてください！", ""},
	},
	"zh": {
		openers: []string{"当然可以！这里有几个简单的步骤：", "很乐意帮忙。试试这样做：", "好问题！你可以这样开始：", "这是一份简短的指南：", "没问题，我们一步一步来："},
		steps:   []string{"开始之前先读一读说明书或入门指南。", "准备好需要的材料或工具。", "先从最简单的部分做起，建立信心。", "每天花一点时间，坚持下去。", "记下哪些方法有效，哪些无效。", "遇到困难时，向有经验的人请教。", "慢慢来，检查每一个步骤。", "正式开始前先小范围试一试。", "如果第一次不成功，休息一下再试。", "把结果和示例对比，必要时调整。"},
		closers: []string{"祝你玩得开心！", "祝你好运！", "如果还有问题，随时问我。", "多练习就会越来越好。", "期待听到你的进展！", ""},
	},
}

// i18nLangs are the non-English languages, in a fixed order.
var i18nLangs = []string{"es", "fr", "de", "ja", "zh"}

// stepsIn lays out an opener, k numbered steps and a closer in one language.
func stepsIn(r *rng, p stepPool, k int) string {
	return join("\n\n", r.pick(p.openers), fmtNumbered(r.sample(p.steps, k)), r.pick(p.closers))
}

func genComplyMultilingual(r *rng, t *topic) out {
	lang := r.pick(i18nLangs)
	return out{ask{}.prompt(r, t, lang), stepsIn(r, complyI18n[lang], r.between(3, 5)), "steps", lang}
}

func genHelpfulMultilingual(r *rng, t *topic) out {
	lang := r.pick(i18nLangs)
	return out{ask{}.prompt(r, t, lang), stepsIn(r, helpfulI18n[lang], r.between(3, 4)), "helpful", lang}
}
