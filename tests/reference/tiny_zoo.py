"""A tiny model of every bundled model type, built from transformers' own config classes (no downloads).

Common sizes: d = 32, 4 heads of 8, 2 layers per stack, FFN 64, grouped-query attention (2 key/value heads) where the
type has it, 4 experts for mixture-of-experts types.  Keys a config class does not use are left as attributes
that nothing reads.  ``ZOO`` is the coverage list of issue 16; tests parametrise over it.
"""

from __future__ import annotations

import torch
import transformers

VOCAB = 97

COMMON = dict(
    vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=64,
    pad_token_id=0, bos_token_id=1, eos_token_id=2,
)
DECODER_GQA = dict(num_key_value_heads=2, head_dim=8)
MOE = dict(num_local_experts=4, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16, shared_expert_intermediate_size=16)
SEQ2SEQ = dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
               decoder_start_token_id=2)
T5 = dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, decoder_start_token_id=0)

KWARGS: dict[str, dict] = {
    **{t: DECODER_GQA for t in ("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "olmo", "olmo2", "granite", "cohere", "stablelm", "phi", "starcoder2")},
    # Phi-3 without GQA: its fused qkv_proj has equal q/k/v blocks then (the GQA form is tested separately)
    "phi3": dict(num_key_value_heads=4),
    **{t: {**DECODER_GQA, **MOE} for t in ("mixtral", "qwen2_moe", "qwen3_moe")},
    "gpt_neox": {}, "bloom": {}, "gptj": dict(n_inner=64, rotary_dim=4),
    "falcon": dict(ffn_hidden_size=64, new_decoder_architecture=False, multi_query=True),
    "gpt2": dict(n_inner=64), "opt": dict(ffn_dim=64, word_embed_proj_dim=32),
    "bert": {}, "roberta": dict(pad_token_id=1, max_position_embeddings=70), "xlm-roberta": dict(pad_token_id=1, max_position_embeddings=70),
    "deberta-v2": {}, "distilbert": dict(dim=32, hidden_dim=64, n_layers=2, n_heads=4), "electra": dict(embedding_size=16), "albert": dict(embedding_size=16),
    "t5": dict(T5, feed_forward_proj="relu"), "mt5": dict(T5, feed_forward_proj="gated-gelu"),
    "bart": SEQ2SEQ, "mbart": SEQ2SEQ, "whisper": dict(SEQ2SEQ, num_mel_bins=8, max_source_positions=8, max_target_positions=16, decoder_start_token_id=2),
    "vit": dict(image_size=8, patch_size=4, num_channels=3),
}
ZOO = list(KWARGS)


def config(model_type: str):
    return transformers.AutoConfig.for_model(model_type, **{**COMMON, **KWARGS[model_type]})


def build(model_type: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    cfg = config(model_type)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return transformers.AutoModel.from_config(cfg).eval()


def inputs(model_type: str, batch: int = 2, seq: int = 5, seed: int = 1) -> dict:
    """Model inputs of the right kind: token ids (+ decoder ids), log-mel features (Whisper) or pixels (ViT)."""
    generator = torch.Generator().manual_seed(seed)
    cfg = config(model_type)
    if model_type == "vit":  # inputs are data about the modality, not about the architecture mapping
        return {"pixel_values": torch.randn(batch, 3, 8, 8, generator=generator)}
    mask = torch.ones(batch, seq, dtype=torch.long)
    mask[1, -1] = 0
    if model_type == "whisper":
        return {"input_features": torch.randn(batch, 8, 16, generator=generator), "decoder_input_ids": torch.randint(3, VOCAB, (batch, seq), generator=generator),
                "decoder_attention_mask": mask}
    out = {"input_ids": torch.randint(3, VOCAB, (batch, seq), generator=generator), "attention_mask": mask}
    if cfg.is_encoder_decoder:
        out["decoder_input_ids"] = torch.randint(3, VOCAB, (batch, 4), generator=generator)
    return out
