#!/usr/bin/env python3
"""Golden token ids for the Rust Whisper tokenizer, made with `tiktoken`, the BPE Whisper
itself uses (openai/whisper builds a tiktoken Encoding whose ranks are the token ids).

The Hugging Face `tokenizer.json` shipped with the CTranslate2 model lacks the first merge
of GPT-2 (`Ġ t`), so `tokenizers` splits " to" into " " + "to" where Whisper has one token;
it is only used here to read the vocabulary.

    $(tools/models/pyenv.sh) tools/models/tokenizer_golden.py \
        --tokenizer /var/lib/yingda/models/whisper-base/tokenizer.json \
        > firmware/speech/tests/data/tokenizer/golden.jsonl

One JSON object per line: {"text": ..., "ids": [...]}. The texts cover what the IVR feeds
the tokenizer: grammar phrases in Mandarin and English (with the leading space Whisper puts
before English words), digits, punctuation, mixed scripts, whitespace runs, contractions.
"""
import argparse
import json

import tiktoken

# GPT-2's pre-tokenizer pattern, as in openai/whisper's tokenizer.py.
PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def byte_decoder() -> dict[str, int]:
    """GPT-2's printable-character -> byte table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}

TEXTS = [
    "以下是普通话的句子。", "口腔科", "牙科", "我想看牙科", "妇产科", "挂号", "查询检查结果",
    "是的", "不是", "好的，谢谢。", "人工服务", "转人工", "挂失", "余额查询", "幺三八零零一三八零零零",
    " yes", " no", " dentistry please", " Press one for appointments.", " I'd like to talk to an agent",
    " balance", "Hello", " hello world", "  two  spaces", "tab\there", "line\nbreak", "don't", "I'LL",
    " 12345", " 3.14", "¥30元", "ATM机", "ID号码", "e-mail", "🙂", "Ünïcödé", "a   b", " ", "",
    "北京市朝阳区", "重庆银行", "谢谢您的来电，再见！", " The quick brown fox's tail", "x\u00a0y",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", required=True)
    args = parser.parse_args()
    with open(args.tokenizer, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    dec = byte_decoder()
    ranks = {bytes(dec[c] for c in token): i for token, i in vocab.items() if i < 50257}
    enc = tiktoken.Encoding(name="whisper-multilingual", pat_str=PAT, mergeable_ranks=ranks,
                            special_tokens={})
    for text in TEXTS:
        ids = enc.encode(text)
        print(json.dumps({"text": text, "ids": ids}, ensure_ascii=False))


if __name__ == "__main__":
    main()
