using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Kubernetes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Bench;

/// <summary>
/// Single-thread cost of the steps a cold Certify pays, with the same BCL and IdentityModel calls the server
/// makes (a stand-in to locate cold-path cost; the server's own code is timed by the load runs).
/// </summary>
internal static class Breakdown
{
    public static void Print(int iterations)
    {
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var tokens = new ServiceAccountTokenIssuer(BenchSettings.DefaultTokenIssuer);
        var csrs = new byte[iterations][];
        var jwts = new string[iterations];
        for (var i = 0; i < iterations; i++)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var identity = $"sa-{i}.ns-0.serviceaccount.identity.linkerd.cluster.local";
            var request = new CertificateRequest($"CN={identity}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(identity);
            request.CertificateExtensions.Add(san.Build());
            csrs[i] = request.CreateSigningRequest();
            jwts[i] = tokens.Mint("ns-0", $"sa-{i}");
        }

        var tbs = RandomNumberGenerator.GetBytes(400);
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = BenchSettings.DefaultTokenIssuer,
            ValidAudience = TokenValidationOptions.LinkerdAudience,
            IssuerSigningKey = tokens.SigningKey,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        };

        Time("ECDSA P-256 sign (leaf)", iterations, i => issuerKey.SignData(tbs, HashAlgorithmName.SHA256));
        var loaded = new CertificateRequest[iterations];
        Time("CertificateRequest.LoadSigningRequest", iterations, i => loaded[i] = CertificateRequest.LoadSigningRequest(
            csrs[i], HashAlgorithmName.SHA256, CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions));
        var keys = new ECDsa[iterations];
        Time("PublicKey.GetECDsaPublicKey (import)", iterations, i => keys[i] = loaded[i].PublicKey.GetECDsaPublicKey()!);
        var spkis = loaded.Select(r => r.PublicKey.ExportSubjectPublicKeyInfo()).ToArray();
        Time("ECDsa.ImportSubjectPublicKeyInfo (import, other route)", iterations, i =>
        {
            using var k = ECDsa.Create();
            k.ImportSubjectPublicKeyInfo(spkis[i], out _);
        });
        Time("ECDSA P-256 verify (CSR signature)", iterations, i => keys[i].VerifyData(tbs, tbs.AsSpan(0, 64), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Time("JsonWebTokenHandler.ValidateTokenAsync (ES256)", iterations, i =>
        {
            if (!handler.ValidateTokenAsync(jwts[i], parameters).GetAwaiter().GetResult().IsValid)
            {
                throw new InvalidOperationException("bench token did not validate");
            }
        });
        foreach (var key in keys)
        {
            key.Dispose();
        }
    }

    private static void Time(string what, int iterations, Action<int> step)
    {
        step(0); // JIT
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            step(i);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {stopwatch.Elapsed.TotalMicroseconds / iterations:F0} us"));
    }
}
