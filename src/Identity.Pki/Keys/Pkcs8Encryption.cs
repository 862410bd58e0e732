using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Identity.Pki.Keys;

/// <summary>
/// PKCS#8 <c>EncryptedPrivateKeyInfo</c> with PBES2 (RFC 8018): PBKDF2-HMAC-SHA* and AES-CBC. Written the way
/// go.step.sm/crypto writes Ed25519 keys (PBKDF2-HMAC-SHA256, 600000 iterations, AES-256-CBC, 16-byte salt
/// and IV, NULL PRF parameters). The BCL can decrypt PBES2 only into RSA/EC/DSA keys, not into arbitrary
/// PrivateKeyInfo (Ed25519), so both directions are done here with platform PBKDF2 and AES.
/// </summary>
internal static class Pkcs8Encryption
{
    public const int DefaultIterations = 600_000;

    // Refuse absurd work factors from untrusted files (denial of service) while accepting every real-world one.
    private const int MaxIterations = 10_000_000;

    public static byte[] Encrypt(byte[] privateKeyInfo, byte[] password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        var key = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        byte[] encrypted;
        using (var aes = Aes.Create())
        {
            aes.Key = key;
            encrypted = aes.EncryptCbc(privateKeyInfo, iv, PaddingMode.PKCS7);
        }

        CryptographicOperations.ZeroMemory(key);

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.Pbes2);
                using (writer.PushSequence())
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Oids.Pbkdf2);
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(salt);
                            writer.WriteInteger(iterations);
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier(Oids.HmacWithSha256);
                                writer.WriteNull();
                            }
                        }
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Oids.Aes256Cbc);
                        writer.WriteOctetString(iv);
                    }
                }
            }

            writer.WriteOctetString(encrypted);
        }

        return writer.Encode();
    }

    /// <summary>Decrypts an EncryptedPrivateKeyInfo into the DER PrivateKeyInfo.</summary>
    public static byte[] Decrypt(byte[] encryptedPrivateKeyInfo, byte[] password, string source)
    {
        byte[] salt, iv, data;
        int iterations, keyLength;
        HashAlgorithmName prf;
        try
        {
            var outer = new AsnReader(encryptedPrivateKeyInfo, AsnEncodingRules.BER).ReadSequence();
            var algorithm = outer.ReadSequence();
            var scheme = algorithm.ReadObjectIdentifier();
            if (scheme != Oids.Pbes2)
            {
                throw new PkiException($"error decrypting {source}: unsupported PKCS#8 encryption scheme {scheme} (only PBES2 is supported)");
            }

            var parameters = algorithm.ReadSequence();
            var kdf = parameters.ReadSequence();
            var kdfOid = kdf.ReadObjectIdentifier();
            if (kdfOid != Oids.Pbkdf2)
            {
                throw new PkiException($"error decrypting {source}: unsupported key derivation function {kdfOid} (only PBKDF2 is supported)");
            }

            var kdfParams = kdf.ReadSequence();
            salt = kdfParams.ReadOctetString();
            if (!kdfParams.TryReadInt32(out iterations) || iterations < 1 || iterations > MaxIterations)
            {
                throw new PkiException($"error decrypting {source}: unsupported PBKDF2 iteration count");
            }

            int? declaredKeyLength = null;
            if (kdfParams.HasData && kdfParams.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                declaredKeyLength = kdfParams.TryReadInt32(out var kl) ? kl : -1;
            }

            prf = HashAlgorithmName.SHA1;
            if (kdfParams.HasData)
            {
                var prfSeq = kdfParams.ReadSequence();
                prf = prfSeq.ReadObjectIdentifier() switch
                {
                    Oids.HmacWithSha1 => HashAlgorithmName.SHA1,
                    Oids.HmacWithSha256 => HashAlgorithmName.SHA256,
                    Oids.HmacWithSha384 => HashAlgorithmName.SHA384,
                    Oids.HmacWithSha512 => HashAlgorithmName.SHA512,
                    var other => throw new PkiException($"error decrypting {source}: unsupported PBKDF2 PRF {other}"),
                };
            }

            var encryption = parameters.ReadSequence();
            keyLength = encryption.ReadObjectIdentifier() switch
            {
                Oids.Aes128Cbc => 16,
                Oids.Aes192Cbc => 24,
                Oids.Aes256Cbc => 32,
                var other => throw new PkiException($"error decrypting {source}: unsupported PKCS#8 cipher {other} (AES-CBC is supported)"),
            };
            if (declaredKeyLength is { } declared && declared != keyLength)
            {
                throw new PkiException($"error decrypting {source}: PBKDF2 key length does not match the cipher");
            }

            iv = encryption.ReadOctetString();
            if (iv.Length != 16)
            {
                throw new PkiException($"error decrypting {source}: AES-CBC IV must be 16 bytes");
            }

            data = outer.ReadOctetString();
        }
        catch (AsnContentException e)
        {
            throw new PkiException($"error decoding {source}: malformed ENCRYPTED PRIVATE KEY", e);
        }

        var key = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, prf, keyLength);
        try
        {
            using var aes = Aes.Create();
            aes.Key = key;
            return aes.DecryptCbc(data, iv, PaddingMode.PKCS7);
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"error decrypting {source}: incorrect password", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
