using Identity.Pki;
using Identity.Pki.Certificates;
using Identity.Pki.Inspection;
using Identity.Pki.X509;
using Identity.Server.Issuance;

namespace Identity.Fuzz.Targets;

/// <summary>
/// A CSR as Certify, <c>cert sign</c> and <c>cert inspect</c> read it. Contract: the server's parser and the Pki
/// decoder never throw and agree on what is acceptable; <c>cert sign</c>'s reader and inspect throw only
/// <see cref="PkiException"/>; whatever is accepted is the request's own key with a signature that verifies.
/// </summary>
internal sealed class CsrTarget : FuzzTarget
{
    public override string Name => "csr";

    public override string Description => "PKCS#10 DER: the server's CsrParser, the Pki decoder, cert sign's reader and inspect";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var der = input.ToArray();
        var parsed = CsrParser.ParseUncached(der);
        var decoded = CertificationRequest.Decode(der);
        Contract.That(parsed.IsValid == (decoded.Value is { PublicKey.Problem: null }),
            $"the server's parser and the Pki decoder disagree: {parsed.Error} / {decoded.Error}");
        if (decoded.Value is not { } request)
        {
            Contract.That(!string.IsNullOrEmpty(decoded.Error), "a refusal without a reason");
            return;
        }

        Contract.That(request.Der.Length == der.Length, "the decoder accepted trailing bytes");
        var verified = request.VerifySignature();
        if (parsed.Value is { } csr)
        {
            Contract.That(csr.SignatureValid == verified, "the server and the decoder disagree about the signature");
            Contract.That(csr.SubjectPublicKeyInfo.AsSpan().SequenceEqual(request.PublicKey.Der.Span), "the server's key is not the CSR's key");
            Contract.That(csr.DnsNames.Length == (request.SubjectAltNames?.DnsNames.Count ?? 0), "DNS names were lost or invented");
        }

        try
        {
            var signing = SigningRequests.Read(der, "csr");
            Contract.That(verified, "cert sign accepted a CSR whose signature does not verify");
            Contract.That(signing.SubjectPublicKeyInfo.AsSpan().SequenceEqual(request.PublicKey.Der.Span), "cert sign took another key than the CSR's");
        }
        catch (PkiException)
        {
        }

        Inspect.Quietly(() => CertificateText.FormatRequest(der));
        Inspect.Quietly(() => CertificateText.FormatRequestShort(der));
        Inspect.Quietly(() => CertificateJson.FormatRequests([der], asArray: false));
    }
}

/// <summary>Inspect output for hostile input: text or a <see cref="PkiException"/>, nothing else.</summary>
internal static class Inspect
{
    public static void Quietly(Func<string> format)
    {
        try
        {
            Contract.That(format() is not null, "inspect returned null");
        }
        catch (PkiException)
        {
        }
    }
}
