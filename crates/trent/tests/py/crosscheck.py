"""Independent cryptography for Trent's tests: the Python `cryptography` package (OpenSSL).

Reads a JSON list of tasks on stdin and writes a JSON list of results, one per task:
  verify        {spki, alg, message, message_type, signature}  -> true/false
  oaep_encrypt  {spki, alg, plaintext}                         -> ciphertext
  oaep_decrypt  {pkcs8, alg, ciphertext}                       -> plaintext
  ecdh          {spki}                                         -> {peer_spki, secret}
  mu            {spki, message}                                -> ML-DSA external mu (FIPS 204 6.2)
  pkcs8_public  {pkcs8}                                        -> spki of the private key
  wrap          {spki, alg, material}                          -> EncryptedKeyMaterial for import
  gen_rsa       {bits}                                         -> {pkcs8, spki} of a new RSA key
All binary values are base64.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

b64d = base64.b64decode


def b64e(b):
    return base64.b64encode(b).decode()


HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def verify(t):
    key = serialization.load_der_public_key(b64d(t["spki"]))
    alg, msg, sig = t["alg"], b64d(t["message"]), b64d(t["signature"])
    digest = t["message_type"] == "DIGEST"
    try:
        if alg.startswith("RSASSA"):
            h = HASHES[alg[-3:]]()
            chosen = Prehashed(h) if digest else h
            if "PSS" in alg:
                pad = padding.PSS(mgf=padding.MGF1(HASHES[alg[-3:]]()), salt_length=h.digest_size)
            else:
                pad = padding.PKCS1v15()
            key.verify(sig, msg, pad, chosen)
        elif alg.startswith("ECDSA"):
            h = HASHES[alg[-3:]]()
            key.verify(sig, msg, ec.ECDSA(Prehashed(h) if digest else h))
        elif alg == "ED25519_SHA_512":
            key.verify(sig, msg)
        elif alg == "ML_DSA_SHAKE_256":
            key.verify(sig, msg)
        else:
            raise ValueError(alg)
        return True
    except InvalidSignature:
        return False


def oaep_encrypt(t):
    key = serialization.load_der_public_key(b64d(t["spki"]))
    h = hashes.SHA256 if t["alg"] == "RSAES_OAEP_SHA_256" else hashes.SHA1
    pad = padding.OAEP(mgf=padding.MGF1(algorithm=h()), algorithm=h(), label=None)
    return b64e(key.encrypt(b64d(t["plaintext"]), pad))


def oaep_decrypt(t):
    key = serialization.load_der_private_key(b64d(t["pkcs8"]), password=None)
    h = hashes.SHA256 if t["alg"] == "RSAES_OAEP_SHA_256" else hashes.SHA1
    pad = padding.OAEP(mgf=padding.MGF1(algorithm=h()), algorithm=h(), label=None)
    return b64e(key.decrypt(b64d(t["ciphertext"]), pad))


def wrap(t):
    """Wraps key material for ImportKeyMaterial as the AWS documentation describes."""
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
    import os

    key = serialization.load_der_public_key(b64d(t["spki"]))
    alg, material = t["alg"], b64d(t["material"])
    h = hashes.SHA256 if alg.endswith("SHA_256") else hashes.SHA1
    pad = padding.OAEP(mgf=padding.MGF1(algorithm=h()), algorithm=h(), label=None)
    if alg.startswith("RSAES_OAEP"):
        return b64e(key.encrypt(material, pad))
    aes = os.urandom(32)
    return b64e(key.encrypt(aes, pad) + aes_key_wrap_with_padding(aes, material))


def gen_rsa(t):
    key = rsa.generate_private_key(public_exponent=65537, key_size=t["bits"])
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"pkcs8": b64e(pkcs8), "spki": b64e(spki)}


def ecdh(t):
    trent_public = serialization.load_der_public_key(b64d(t["spki"]))
    mine = ec.generate_private_key(trent_public.curve)
    secret = mine.exchange(ec.ECDH(), trent_public)
    peer = mine.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"peer_spki": b64e(peer), "secret": b64e(secret)}


def mu(t):
    key = serialization.load_der_public_key(b64d(t["spki"]))
    pk = key.public_bytes_raw()
    tr = hashlib.shake_256(pk).digest(64)
    # M' = 0 || |ctx| || ctx || M with an empty context (pure ML-DSA).
    return b64e(hashlib.shake_256(tr + b"\x00\x00" + b64d(t["message"])).digest(64))


def pkcs8_public(t):
    key = serialization.load_der_private_key(b64d(t["pkcs8"]), password=None)
    return b64e(
        key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


OPS = {"verify": verify, "oaep_encrypt": oaep_encrypt, "oaep_decrypt": oaep_decrypt, "ecdh": ecdh, "mu": mu, "pkcs8_public": pkcs8_public, "wrap": wrap, "gen_rsa": gen_rsa}

json.dump([OPS[t["op"]](t) for t in json.load(sys.stdin)], sys.stdout)
