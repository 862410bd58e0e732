using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki;
using Identity.Pki.Inspection;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Identity.Pki.Verification;

namespace Identity.Fuzz.Targets;

/// <summary>PEM text. Contract: blocks or <see cref="PkiException"/>; every block re-encodes and decodes to itself.</summary>
internal sealed class PemTarget : FuzzTarget
{
    public override string Name => "pem";

    public override string Description => "PEM decoding (RFC 1421 headers included) and its round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        IReadOnlyList<PemBlock> blocks;
        try
        {
            blocks = PemCodec.Decode(Encoding.UTF8.GetString(input), "pem");
        }
        catch (PkiException)
        {
            return;
        }

        foreach (var block in blocks)
        {
            var again = PemCodec.Decode(PemCodec.Encode(block), "pem");
            Contract.That(again.Count == 1 && again[0].Label == block.Label && again[0].Der.AsSpan().SequenceEqual(block.Der)
                && again[0].Headers.SequenceEqual(block.Headers), $"PEM block '{block.Label}' does not round-trip");
        }
    }
}

/// <summary>
/// A certificate file (PEM or DER) as every command reads it, then inspected in all three formats. Contract: only
/// <see cref="CertificateFileException"/> from the reader and <see cref="PkiException"/> from inspect.
/// </summary>
internal sealed class CertificateTarget : FuzzTarget
{
    public override string Name => "certificate";

    public override string Description => "certificate files (PEM/DER) through CertificateFile, inspect (text, short, JSON) and the chain verifier";

    public override void Run(ReadOnlySpan<byte> input)
    {
        CertificateFileContents contents;
        try
        {
            contents = CertificateFile.Parse(input, "certificate");
        }
        catch (CertificateFileException)
        {
            return;
        }

        foreach (var certificate in contents.Certificates)
        {
            Inspect.Quietly(() => CertificateText.Format(certificate));
            Inspect.Quietly(() => CertificateText.FormatShort(certificate));
        }

        if (contents.Certificates.Count > 0)
        {
            Inspect.Quietly(() => CertificateJson.Format(contents.Certificates, asArray: true));
            // The chain verifier against the file's own last certificate as the anchor: a verdict, never an exception.
            var result = ChainVerifier.Verify(contents.Certificates[0], contents.Certificates.Skip(1), TrustBundle.FromCertificates([contents.Certificates[^1]]), FuzzServer.Now);
            Contract.That(result is not null, "no verdict");
        }

        foreach (var request in contents.CertificateRequests)
        {
            Inspect.Quietly(() => CertificateText.FormatRequest(request));
        }
    }
}

/// <summary>A trust bundle. Contract: a bundle or <see cref="CertificateFileException"/>; no duplicates kept.</summary>
internal sealed class TrustBundleTarget : FuzzTarget
{
    public override string Name => "trust-bundle";

    public override string Description => "trust-anchor bundles (PEM text)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        TrustBundle bundle;
        try
        {
            bundle = TrustBundle.FromPem(Encoding.UTF8.GetString(input));
        }
        catch (CertificateFileException)
        {
            return;
        }

        Contract.That(bundle.Certificates.Select(c => c.Thumbprint).Distinct().Count() == bundle.Certificates.Count, "duplicate anchors kept");
    }
}

/// <summary>
/// A private key file (SEC1, PKCS#1, PKCS#8, encrypted PKCS#8, legacy OpenSSL-encrypted; PEM or DER) read with the
/// seed password. Contract: a key or <see cref="PkiException"/>; an accepted key signs, its signature verifies with
/// its own public key, and it survives a write and a re-read unchanged.
/// </summary>
internal sealed class KeyTarget : FuzzTarget
{
    public const string Password = "identity-fuzz";

    public override string Name => "key";

    public override string Description => "private keys (plain, PKCS#8, encrypted, legacy OpenSSL-encrypted) and their round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var data = input.ToArray();
        PrivateKey key;
        try
        {
            key = PrivateKeyPem.Read(data, "key", Password);
        }
        catch (PkiException)
        {
            return;
        }

        using (key)
        {
            var spki = key.ExportSubjectPublicKeyInfo();
            using var reread = PrivateKeyPem.Read(Encoding.ASCII.GetBytes(PrivateKeyPem.Write(key, null)), "rewritten", null);
            Contract.That(reread.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(spki), "the key changed in a write and re-read");
            var message = "identity-fuzz"u8.ToArray();
            var generator = key.CreateSignatureGenerator();
            var signature = generator.SignData(message, key.SignatureHash);
            var publicKey = Pki.X509.PublicKeyInfo.Decode(spki).Value;
            Contract.That(publicKey is { Problem: null }, $"an accepted key has an unusable public key: {publicKey?.Problem}");
            var algorithm = Pki.X509.SignatureAlgorithm.FromOid(SignatureOid(generator, key));
            Contract.That(algorithm is not null && algorithm.Verify(publicKey!, message, signature), "the key's signature does not verify with its public key");
        }
    }

    private static string? SignatureOid(X509SignatureGenerator generator, PrivateKey key)
    {
        var identifier = generator.GetSignatureAlgorithmIdentifier(key.SignatureHash);
        return new System.Formats.Asn1.AsnReader(identifier, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence().ReadObjectIdentifier();
    }
}
