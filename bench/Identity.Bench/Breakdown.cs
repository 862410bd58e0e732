using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Identity.Kubernetes;
using Identity.Protocol;
using Identity.Server;
using Identity.Server.Issuance;
using Identity.Server.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Identity.Bench;

/// <summary>
/// Single-thread cost of each stage of a cold Certify, timed on the server's own code (the CSR decoder and its
/// signature check, the JWKS validator behind its cache, the leaf issuer), with the bytes each stage allocates.
/// </summary>
internal static class Breakdown
{
    public static async Task PrintAsync(int iterations)
    {
        var dir = Directory.CreateTempSubdirectory("identity-breakdown-").FullName;
        try
        {
            var pki = await BenchPki.WriteAsync(dir).ConfigureAwait(false);
            using var tokens = pki.OpenTokenIssuer();
            var requests = Workloads.Cold(iterations + 1, iterations + 1, new TokenMinter(tokens));

            var services = new ServiceCollection();
            services.AddLogging(b => b.AddProvider(NullLoggerProvider.Instance));
            services.AddMetrics();
            services.AddSingleton(TimeProvider.System);
            services.AddIdentityTokenValidation(o =>
            {
                o.Mode = TokenValidationMode.Jwks;
                o.Jwks = pki.JwksFile;
                o.TokenIssuer = BenchSettings.DefaultTokenIssuer;
            });
            await using var provider = services.BuildServiceProvider();
            var validator = provider.GetRequiredService<ITokenValidator>();
            var options = new IdentityServerOptions
            {
                ControllerNamespace = "linkerd",
                TrustDomain = "cluster.local",
                IssuerDirectory = pki.IssuerDirectory,
                TrustAnchorsFile = pki.TrustAnchorsFile,
            };
            var issuer = IssuerLoader.Load(IssuerLoader.Read(options), options, DateTimeOffset.UtcNow);
            var parsed = new ParsedCsr[requests.Length];
            var now = DateTimeOffset.UtcNow;

            using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var tbs = RandomNumberGenerator.GetBytes(400);
            var signature = issuerKey.SignData(tbs, HashAlgorithmName.SHA256);
            Time("reference: ECDSA P-256 sign (platform)", iterations, _ => issuerKey.SignData(tbs, HashAlgorithmName.SHA256));
            Time("reference: ECDSA P-256 verify, key already imported (platform)", iterations, _ => issuerKey.VerifyData(tbs, signature, HashAlgorithmName.SHA256));
            Time("CsrParser.ParseUncached (decode, key checks, signature verify)", iterations,
                i => parsed[i] = CsrParser.ParseUncached(requests[i].CertificateSigningRequest.Memory).Value!);
            Time("token review: JwksTokenValidator behind CachingTokenValidator (fresh token)", iterations,
                i => validator.ReviewAsync(requests[i].Token.Memory, CancellationToken.None).AsTask().GetAwaiter().GetResult());
            Time("LeafIssuer.Issue (build and sign the leaf)", iterations,
                i => LeafIssuer.Issue(issuer, requests[i].Identity, parsed[i].SubjectPublicKeyInfo, now, now.AddDays(1)));
            Time("CertifyResponse (wrap the leaf and intermediates) and its protobuf encoding", iterations, i =>
            {
                var response = new CertifyResponse { LeafCertificate = requests[i].CertificateSigningRequest };
                response.IntermediateCertificates.AddRange(issuer.Intermediates);
                _ = Google.Protobuf.MessageExtensions.ToByteArray(response);
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Time(string what, int iterations, Action<int> step)
    {
        step(iterations); // JIT; the last item is spare for it
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            step(i);
        }

        var micros = stopwatch.Elapsed.TotalMicroseconds / iterations;
        var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)iterations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what}: {micros:F0} us, {bytes:F0} bytes allocated"));
    }
}
