// Package model implements Llama-family causal language models (model_type llama, mistral
// and qwen2) as Hugging Face defines them: config.json, safetensors weights with HF tensor
// names, a batched forward pass with padding masks, a hand-written backward pass for every
// parameter, named LoRA adapter sets, and KV-cache decoding.
//
// Like llm.c, each layer's forward and backward sit side by side (block.go, ops.go,
// linear.go), the activations the backward needs are explicit buffers with their shapes
// written beside them, and nothing is a general autograd tape. Training runs Forward and
// Backward over whole sequences; decoding runs Step against a Cache, and Decode is the one
// batched decoding loop (sampling, stop ids, debiasing, streaming) that every generator in
// aegis uses. Compute is float32; frozen base weights may stay bfloat16 in memory and are
// widened on use.
//
// Limits: hidden_act must be silu; rope_scaling may be absent, "default", "linear" or
// "llama3"; attention is materialised per sequence (memory grows with T²), which suits
// the small models and short sequences aegis trains, not long-context inference.
package model
