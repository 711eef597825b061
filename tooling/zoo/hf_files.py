"""Writes the files transformers.js needs beside a zoo model (config.json, tokenizer.json,
tokenizer_config.json), from the model's vocab.json. Standard library only, so the committed files
can be rewritten without torch: `python3 tooling/zoo/hf_files.py bert gpt`. generate.py calls it after
exporting the BERT-style encoder and the character GPT.

The tokenizer reproduces generate.py's encoding exactly: lowercase, words are runs of [a-z0-9]
(everything else separates and is dropped), [UNK] for words outside the vocabulary, [CLS] first,
64 tokens at most (model_max_length)."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(folder, tokenizer, config, tokenizer_config):
    for name, content in (("tokenizer.json", tokenizer), ("config.json", config),
                          ("tokenizer_config.json", tokenizer_config)):
        with open(os.path.join(folder, name), "w") as f:
            json.dump(content, f, indent=1 if name != "tokenizer.json" else None)
            f.write("\n")
        print(f"  wrote {os.path.relpath(os.path.join(folder, name), os.path.join(HERE, '..', '..'))}")


def special(token, id_):
    return {"id": id_, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def bert_files(folder):
    with open(os.path.join(folder, "vocab.json")) as f:
        vocab = json.load(f)
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(t, vocab[t]) for t in ("[PAD]", "[UNK]", "[CLS]")],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[^a-z0-9]+"}, "behavior": "Removed", "invert": False},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [vocab["[CLS]"]], "tokens": ["[CLS]"]}},
        },
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }
    config = {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "id2label": {"0": "ham", "1": "spam"},
        "label2id": {"ham": 0, "spam": 1},
        "vocab_size": len(vocab),
        "hidden_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 256,
        "max_position_embeddings": 64,
        "pad_token_id": vocab["[PAD]"],
    }
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizer",
        "model_max_length": 64,
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "padding_side": "right",
    }
    write(folder, tokenizer, config, tokenizer_config)


def gpt_files(folder):
    """A character-level GPT-2-style directory: BPE with one token per character and no merges (so
    every character of vocab.json is one id, as generate.py encodes text), Fuse decoding, no cache
    inputs (transformers.js feeds only input_ids then)."""
    with open(os.path.join(folder, "vocab.json")) as f:
        chars = json.load(f)
    vocab = {c: i for i, c in enumerate(chars)}
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Fuse"},
        "model": {"type": "BPE", "vocab": vocab, "merges": [], "unk_token": None, "dropout": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False},
    }
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": len(chars),
        "n_embd": 128,
        "n_layer": 2,
        "n_head": 4,
        "n_positions": 64,
        "use_cache": False,
    }
    tokenizer_config = {"tokenizer_class": "PreTrainedTokenizer", "model_max_length": 64}
    write(folder, tokenizer, config, tokenizer_config)


WRITERS = {"bert": bert_files, "gpt": gpt_files}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(WRITERS):
        WRITERS[name](os.path.join(HERE, "models", name))
