// Package gcg is the greedy coordinate gradient (GCG) attack of Zou et al. 2023,
// "Universal and Transferable Adversarial Attacks on Aligned Language Models", run in
// process on a white-box model (native/model) with its tokenizer and chat template.
//
// A goal is a request and a target answer ("Sure, here is how to ..."). The attack
// appends an adversarial suffix of L tokens to the request and minimises the target's
// loss: the mean cross-entropy of the target tokens, teacher-forced after the user
// message (request + " " + suffix) rendered through the chat template with the
// assistant's generation prompt. Each step
//
//  1. takes the gradient of the loss with respect to the one-hot suffix tokens (the
//     model's backward reaches the input embeddings x; dL/d onehot[v] = dL/dx · E[v]);
//  2. keeps, per suffix position, the top-k allowed tokens with the most negative gradient;
//  3. samples B candidates, each replacing one uniformly drawn position with a uniformly
//     drawn token of that position's top-k (duplicates and no-op swaps dropped);
//  4. drops candidates whose suffix does not re-tokenize to the same ids when the user
//     message request + " " + suffix goes through the chat template (as the reference
//     implementation filters them), so that the printed prompt reproduces the tokens;
//  5. scores every remaining candidate in batched forward passes and moves to the best,
//     keeping the best suffix seen (the result) apart from the current one.
//
// With several goals (the paper's universal attack) one suffix is optimised for all of
// them: the loss is the sum of the goals' losses and the gradient the sum of each goal's
// gradient normalised per position, as llm-attacks sums them.
//
// Defaults follow nanoGCG and the paper: 100 steps, 20 suffix tokens initialised from
// "! ! ! ...", top-k 256, 512 candidates. DefaultTarget derives a target from a request.
//
// Limits: the suffix's tokens are drawn from printable-ASCII, non-special tokens, and its
// first token must begin with a space (the space between request and suffix), so a
// tokenizer whose first-token spaces are spelled otherwise cannot be attacked; a step
// whose candidates all fail the re-tokenization check keeps the current suffix. The
// universal mode optimises all goals at once, not the paper's progressive schedule that
// adds goals as earlier ones succeed. The base weights and any adapter stay frozen, so
// backward computes activation gradients only. Candidates are scored in equal batches
// sized to bound activation memory (Options.BatchTokens), after a KV cache of the tokens
// every sequence begins with (the chat header and, for one goal, the request: nanoGCG's
// prefix cache); the rest of each sequence is recomputed for every candidate.
package gcg
