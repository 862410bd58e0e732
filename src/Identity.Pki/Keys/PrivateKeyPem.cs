using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using Identity.Pki.Pem;
using Identity.Pki.X509;
using Org.BouncyCastle.Crypto.Parameters;

namespace Identity.Pki.Keys;

/// <summary>
/// Reads and writes private keys in the formats step and OpenSSL use: <c>EC PRIVATE KEY</c> (SEC1),
/// <c>RSA PRIVATE KEY</c> (PKCS#1), <c>PRIVATE KEY</c> (PKCS#8), <c>ENCRYPTED PRIVATE KEY</c> (PKCS#8 PBES2) and
/// legacy OpenSSL-encrypted SEC1/PKCS#1 PEM. DER input (unencrypted PKCS#8, SEC1 or PKCS#1) is accepted too.
/// </summary>
public static class PrivateKeyPem
{
    private static readonly string[] KeyLabels =
        [PemLabels.EcPrivateKey, PemLabels.RsaPrivateKey, PemLabels.PrivateKey, PemLabels.EncryptedPrivateKey];

    /// <summary>
    /// Serializes a key as step does: unencrypted SEC1 / PKCS#1 / PKCS#8 (Ed25519); with a password, legacy
    /// AES-256-CBC PEM encryption for EC and RSA and PKCS#8 PBES2 for Ed25519.
    /// </summary>
    public static string Write(PrivateKey key, string? password)
    {
        ArgumentNullException.ThrowIfNull(key);
        var (label, der) = key switch
        {
            EcPrivateKey ec => (PemLabels.EcPrivateKey, ec.Key.ExportECPrivateKey()),
            RsaPrivateKey rsa => (PemLabels.RsaPrivateKey, rsa.Key.ExportRSAPrivateKey()),
            Ed25519PrivateKey ed => (PemLabels.PrivateKey, Ed25519PrivateKeyInfo(ed)),
            _ => throw new PkiException($"unsupported key type {key.Kind}"),
        };
        try
        {
            if (password is null)
            {
                return PemCodec.Encode(label, der);
            }

            var passwordBytes = LegacyPemEncryption.PasswordBytes(password);
            try
            {
                return key is Ed25519PrivateKey
                    ? PemCodec.Encode(PemLabels.EncryptedPrivateKey, Pkcs8Encryption.Encrypt(der, passwordBytes))
                    : PemCodec.Encode(LegacyPemEncryption.Encrypt(label, der, passwordBytes));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(passwordBytes);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Whether the key in <paramref name="data"/> needs a password.</summary>
    public static bool IsEncrypted(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!PemCodec.LooksLikePem(data))
        {
            return false;
        }

        var block = FindKeyBlock(Encoding.ASCII.GetString(data), source);
        return block.Label == PemLabels.EncryptedPrivateKey || LegacyPemEncryption.IsEncrypted(block);
    }

    /// <summary>Reads the first private key in <paramref name="data"/> (PEM or DER).</summary>
    /// <param name="data">File contents.</param>
    /// <param name="source">File name used in error messages.</param>
    /// <param name="password">Password for encrypted keys; null when none was given.</param>
    /// <exception cref="PkiException">Garbage, unsupported type or curve, missing or incorrect password.</exception>
    public static PrivateKey Read(byte[] data, string source, string? password)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!PemCodec.LooksLikePem(data))
        {
            return ReadDer(data, source);
        }

        var block = FindKeyBlock(Encoding.ASCII.GetString(data), source);
        var der = block.Der;
        var label = block.Label;
        var encrypted = label == PemLabels.EncryptedPrivateKey || LegacyPemEncryption.IsEncrypted(block);
        if (encrypted && password is null)
        {
            throw new PkiException($"error decrypting {source}: the key is encrypted and no password was given");
        }

        var passwordBytes = password is null ? [] : LegacyPemEncryption.PasswordBytes(password);
        try
        {
            if (label == PemLabels.EncryptedPrivateKey)
            {
                der = Pkcs8Encryption.Decrypt(der, passwordBytes, source);
                label = PemLabels.PrivateKey;
            }
            else if (encrypted)
            {
                der = LegacyPemEncryption.Decrypt(block, passwordBytes, source);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
        }

        try
        {
            return label switch
            {
                PemLabels.EcPrivateKey => ImportEc(der, source),
                PemLabels.RsaPrivateKey => ImportRsa(der),
                _ => ImportPkcs8(der, source),
            };
        }
        catch (CryptographicException e)
        {
            // A wrong password that happens to leave valid padding decrypts to garbage; say so.
            throw new PkiException(
                encrypted
                    ? $"error decrypting {source}: incorrect password"
                    : $"error decoding {source}: malformed {label}",
                e);
        }
        finally
        {
            if (!ReferenceEquals(der, block.Der))
            {
                CryptographicOperations.ZeroMemory(der);
            }
        }
    }

    private static PemBlock FindKeyBlock(string text, string source)
    {
        var blocks = PemCodec.Decode(text, source);
        if (blocks.Count == 0)
        {
            throw new PkiException($"error decoding {source}: no PEM block found");
        }

        foreach (var block in blocks)
        {
            if (KeyLabels.Contains(block.Label))
            {
                return block;
            }
        }

        // `openssl ecparam -genkey` writes an EC PARAMETERS block first; anything else is not a key we know.
        var first = blocks.FirstOrDefault(b => b.Label != "EC PARAMETERS") ?? blocks[0];
        throw new PkiException($"error decoding {source}: unsupported PEM block type '{first.Label}' (expected a private key)");
    }

    private static PrivateKey ReadDer(byte[] der, string source)
    {
        foreach (var attempt in new Func<byte[], string, PrivateKey>[] { ImportPkcs8, ImportEc, (d, _) => ImportRsa(d) })
        {
            try
            {
                return attempt(der, source);
            }
            catch (CryptographicException)
            {
            }
            catch (PkiException e) when (e.InnerException is AsnContentException or CryptographicException)
            {
            }
        }

        throw new PkiException($"error decoding {source}: not a PEM file and not a DER private key");
    }

    private static EcPrivateKey ImportEc(byte[] der, string source)
    {
        RequireAllowedCurve(Sec1CurveOid(der, source), source);
        return ImportEc(source, ecdsa => ecdsa.ImportECPrivateKey(der, out _));
    }

    /// <summary>The namedCurve of a SEC1 ECPrivateKey ([0] parameters), or null when it has none.</summary>
    private static string? Sec1CurveOid(byte[] der, string source)
    {
        try
        {
            var key = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            _ = key.ReadInteger();
            _ = key.ReadOctetString();
            var parametersTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            return key.HasData && key.PeekTag().HasSameClassAndValue(parametersTag)
                ? key.ReadSequence(parametersTag).ReadObjectIdentifier()
                : null;
        }
        catch (AsnContentException e)
        {
            throw new PkiException($"error decoding {source}: malformed EC PRIVATE KEY", e);
        }
    }

    /// <summary>The allow-list, checked before the platform sees the key: it throws for curves it does not know.</summary>
    private static void RequireAllowedCurve(string? oid, string source)
    {
        if (oid is not null && EllipticCurve.FromOid(oid) is null)
        {
            throw new PkiException($"error decoding {source}: unsupported elliptic curve {oid}: only P-256, P-384 and P-521 are supported");
        }
    }

    /// <summary>Imports into a fresh ECDSA key that is disposed unless it is returned; the curve check may throw.</summary>
    private static EcPrivateKey ImportEc(string source, Action<ECDsa> import)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            import(ecdsa);
            return new EcPrivateKey(ecdsa);
        }
        catch (PkiException e)
        {
            ecdsa.Dispose();
            throw new PkiException($"error decoding {source}: {e.Message}", e);
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    private static RsaPrivateKey ImportRsa(byte[] der) => ImportRsa(rsa => rsa.ImportRSAPrivateKey(der, out _));

    /// <summary>Imports into a fresh RSA key that is disposed unless it is returned.</summary>
    private static RsaPrivateKey ImportRsa(Action<RSA> import)
    {
        var rsa = RSA.Create();
        try
        {
            import(rsa);
            return new RsaPrivateKey(rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static PrivateKey ImportPkcs8(byte[] der, string source)
    {
        string oid;
        string? curveOid = null;
        byte[] privateKey;
        try
        {
            var seq = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            _ = seq.ReadInteger();
            var algorithm = seq.ReadSequence();
            oid = algorithm.ReadObjectIdentifier();
            if (oid == Oids.EcPublicKey && algorithm.HasData && algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
            {
                curveOid = algorithm.ReadObjectIdentifier();
            }

            privateKey = seq.ReadOctetString();
        }
        catch (AsnContentException e)
        {
            throw new PkiException($"error decoding {source}: malformed PRIVATE KEY", e);
        }

        switch (oid)
        {
            case Oids.EcPublicKey:
                RequireAllowedCurve(curveOid, source);
                RequireAllowedCurve(Sec1CurveOid(privateKey, source), source);
                return ImportEc(source, ecdsa => ecdsa.ImportPkcs8PrivateKey(der, out _));

            case Oids.RsaEncryption:
                return ImportRsa(rsa => rsa.ImportPkcs8PrivateKey(der, out _));

            case Oids.Ed25519:
                byte[] seed;
                try
                {
                    seed = new AsnReader(privateKey, AsnEncodingRules.BER).ReadOctetString();
                }
                catch (AsnContentException e)
                {
                    throw new PkiException($"error decoding {source}: malformed Ed25519 private key", e);
                }

                if (seed.Length != Ed25519PrivateKeyParameters.KeySize)
                {
                    throw new PkiException($"error decoding {source}: Ed25519 private key must be 32 bytes");
                }

                return new Ed25519PrivateKey(new Ed25519PrivateKeyParameters(seed, 0));
            default:
                throw new PkiException($"error decoding {source}: unsupported private key algorithm {oid}");
        }
    }

    // RFC 8410 OneAsymmetricKey v1 without the optional public key, byte-identical to Go's MarshalPKCS8PrivateKey.
    private static byte[] Ed25519PrivateKeyInfo(Ed25519PrivateKey key)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.Ed25519);
            }

            var inner = new AsnWriter(AsnEncodingRules.DER);
            var seed = key.Seed;
            inner.WriteOctetString(seed);
            CryptographicOperations.ZeroMemory(seed);
            writer.WriteOctetString(inner.Encode());
        }

        return writer.Encode();
    }
}
