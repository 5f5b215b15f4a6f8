"""Crypto in one place: key material, JWS/JWT signing, hashing, randomness."""
