using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Identity.Cli.Demo;
using Identity.Kubernetes;
using Identity.Protocol;

namespace Identity.Bench;

/// <summary>Makes the token a proxy of ServiceAccount <c>sa</c> in namespace <c>ns</c> would send.</summary>
internal sealed class TokenMinter(ServiceAccountTokenIssuer? issuer)
{
    /// <summary>Null issuer: accept-all mode, where the server reads the token bytes as the username.</summary>
    public string Mint(string ns, string serviceAccount) =>
        issuer?.Mint(ns, serviceAccount) ?? $"system:serviceaccount:{ns}:{serviceAccount}";
}

/// <summary>Pre-built Certify requests, so the client spends no time on crypto inside the timed window.</summary>
internal static class Workloads
{
    private const int Namespaces = 8;

    /// <summary>
    /// Warm: one key, CSR and token per workload, each resent unchanged for the whole run, as a proxy resends
    /// its CSR and (until the kubelet rotates it) its token on every renewal.
    /// </summary>
    public static CertifyRequest[] Warm(int workloads, TokenMinter tokens) =>
        Build(workloads, workloads, tokens);

    /// <summary>
    /// Cold: <paramref name="count"/> requests, each with its own new P-256 key, CSR and token, cycling through
    /// the workload identities; built on all cores before the timed window.
    /// </summary>
    public static CertifyRequest[] Cold(int count, int workloads, TokenMinter tokens) =>
        Build(count, workloads, tokens);

    private static CertifyRequest[] Build(int count, int workloads, TokenMinter tokens)
    {
        var requests = new CertifyRequest[count];
        Parallel.For(0, count, i => requests[i] = Create(i % workloads, tokens));
        return requests;
    }

    private static CertifyRequest Create(int workload, TokenMinter tokens)
    {
        var ns = $"ns-{workload % Namespaces}";
        var serviceAccount = $"sa-{workload}";
        var identity = $"{serviceAccount}.{ns}.serviceaccount.identity.linkerd.cluster.local";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={identity}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(identity);
        request.CertificateExtensions.Add(san.Build());
        return new CertifyRequest
        {
            Identity = identity,
            Token = ByteString.CopyFromUtf8(tokens.Mint(ns, serviceAccount)),
            CertificateSigningRequest = ByteString.CopyFrom(request.CreateSigningRequest()),
        };
    }
}
