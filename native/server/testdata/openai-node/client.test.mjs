// The official openai npm client against aegis serve's /v1 (node --test client.test.mjs).
// native/server's TestOpenAINodeClient installs the client (npm ci, package-lock.json),
// starts the server and passes, in AEGIS_EXPECT, what the model itself gives for these
// requests (from a direct forward pass); AEGIS_BASE_URL and AEGIS_API_KEY say where.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import OpenAI from "openai";

const expect = JSON.parse(readFileSync(process.env.AEGIS_EXPECT, "utf8"));
const client = new OpenAI({ baseURL: process.env.AEGIS_BASE_URL, apiKey: process.env.AEGIS_API_KEY, maxRetries: 0 });
const model = expect.model;

const near = (got, want, what) => assert.ok(Math.abs(got - want) <= 1e-4, `${what}: ${got}, want ${want}`);

// checkLogprobs compares chat logprobs content with the forward pass's.
function checkLogprobs(content, want, what) {
  assert.equal(content.length, want.logprobs.length, `${what}: token count`);
  content.forEach((t, k) => {
    near(t.logprob, want.logprobs[k], `${what} token ${k}`);
    assert.equal(typeof t.token, "string");
    assert.ok(Array.isArray(t.bytes));
    assert.equal(t.top_logprobs.length, want.top_logprobs[k].length, `${what} token ${k} top count`);
    t.top_logprobs.forEach((tl, i) => near(tl.logprob, want.top_logprobs[k][i], `${what} token ${k} top ${i}`));
  });
  const bytes = Buffer.from(content.flatMap((t) => t.bytes));
  assert.equal(bytes.toString("utf8"), want.content, `${what}: the tokens' bytes make the content`);
}

test("models.list and models.retrieve", async () => {
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), [model]);
  const m = await client.models.retrieve(model);
  assert.equal(m.id, model);
  assert.equal(m.object, "model");
});

test("chat.completions.create with logprobs", async () => {
  const c = expect.chat;
  const res = await client.chat.completions.create({
    model, messages: c.messages, max_tokens: c.max_tokens, logprobs: true, top_logprobs: c.top,
  });
  assert.equal(res.object, "chat.completion");
  assert.equal(res.choices[0].message.role, "assistant");
  assert.equal(res.choices[0].message.content, c.content);
  assert.equal(res.choices[0].logprobs.refusal, null);
  checkLogprobs(res.choices[0].logprobs.content, c, "chat");
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
});

test("chat.completions.create streamed with logprobs and usage", async () => {
  const c = expect.chat;
  const stream = await client.chat.completions.create({
    model, messages: c.messages, max_tokens: c.max_tokens, logprobs: true, top_logprobs: c.top,
    stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  const content = [];
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      text += ch.delta.content ?? "";
      if (ch.logprobs) content.push(...ch.logprobs.content);
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(text, c.content);
  checkLogprobs(content, c, "stream");
  assert.ok(finish === "stop" || finish === "length");
  assert.ok(usage && usage.completion_tokens > 0);
});

test("completions.create (legacy text completions)", async () => {
  const c = expect.completion;
  const res = await client.completions.create({ model, prompt: c.prompt, max_tokens: c.max_tokens, temperature: 0 });
  assert.equal(res.object, "text_completion");
  assert.equal(res.choices[0].text, c.text);
  const stream = await client.completions.create({ model, prompt: c.prompt, max_tokens: c.max_tokens, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, c.text);
});

test("completions.create scoring a prompt as lm-evaluation-harness does", async () => {
  const e = expect.echo;
  const res = await client.completions.create({ model, prompt: e.prompt, max_tokens: 1, logprobs: 1, echo: true, temperature: 0, seed: 1234 });
  const lp = res.choices[0].logprobs;
  assert.ok(res.choices[0].text.startsWith(e.prompt));
  assert.equal(lp.token_logprobs.length, e.token_logprobs.length);
  assert.equal(lp.token_logprobs[0], null);
  assert.equal(lp.top_logprobs[0], null);
  e.token_logprobs.forEach((want, i) => { if (i > 0) near(lp.token_logprobs[i], want, `prompt token ${i}`); });
  for (let i = 1; i < lp.top_logprobs.length; i++) {
    assert.ok(lp.top_logprobs[i][lp.tokens[i]] !== undefined, `top_logprobs ${i} holds the chosen token`);
  }
});

// refused runs a request that must fail with an OpenAI error of the given class.
async function refused(call, Err, status, check) {
  await assert.rejects(call, (err) => {
    assert.ok(err instanceof Err, `${err.constructor.name}: ${err.message}`);
    assert.equal(err.status, status);
    assert.equal(typeof err.error?.message, "string");
    assert.ok(!/Go struct|unmarshal/.test(err.error.message), err.error.message);
    if (check) check(err);
    return true;
  });
}

test("errors are OpenAI error objects the client understands", async () => {
  const messages = [{ role: "user", content: "hi" }];
  await refused(() => client.chat.completions.create({ model, messages, tools: [{ type: "function", function: { name: "f" } }] }),
    OpenAI.BadRequestError, 400, (err) => assert.equal(err.param, "tools"));
  await refused(() => client.chat.completions.create({ model, messages, response_format: { type: "json_object" } }),
    OpenAI.BadRequestError, 400, (err) => assert.equal(err.param, "response_format"));
  await refused(() => client.chat.completions.create({ messages }),
    OpenAI.BadRequestError, 400, (err) => assert.equal(err.param, "model"));
  await refused(() => client.chat.completions.create({ model, messages, max_tokens: 100000 }),
    OpenAI.BadRequestError, 400, (err) => assert.equal(err.param, "max_tokens"));
  await refused(() => client.chat.completions.create({ model, messages: "hi" }),
    OpenAI.BadRequestError, 400, (err) => { assert.equal(err.param, "messages"); assert.equal(err.code, "invalid_type"); });
  await refused(() => client.chat.completions.create({ model: "gpt-4o", messages }),
    OpenAI.NotFoundError, 404, (err) => assert.equal(err.code, "model_not_found"));
  await refused(() => client.get("/embeddings"), OpenAI.NotFoundError, 404);
  await refused(() => client.get("/chat/completions"), OpenAI.APIError, 405);
  const stranger = new OpenAI({ baseURL: process.env.AEGIS_BASE_URL, apiKey: "wrong", maxRetries: 0 });
  await refused(() => stranger.models.list(), OpenAI.AuthenticationError, 401, (err) => assert.equal(err.code, "invalid_api_key"));
});
