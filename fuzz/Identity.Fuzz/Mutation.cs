using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;

namespace Identity.Fuzz;

/// <summary>
/// The black-box mutation run against a live <c>identity serve</c> (JWKS mode): requests built from valid ones by
/// flipping, inserting, deleting and truncating bytes of the CSR and the token, plus odd identities, each answer
/// checked against <see cref="CertifyContract"/>. <c>fuzz/mutation-run</c> starts the server and calls this.
/// </summary>
internal static class Mutation
{
    private static readonly string[] OddIdentities =
    [
        "", "web", "web.emojivoto.serviceaccount.identity.linkerd.cluster.local.", "WEB.emojivoto.serviceaccount.identity.linkerd.cluster.local",
        "web.emojivoto.serviceaccount.identity.linkerd.cluster.local\n", "web.emojivoto.serviceaccount.identity.linkerd.other",
        "default.emojivoto.serviceaccount.identity.linkerd.cluster.local", "web.default.serviceaccount.identity.linkerd.cluster.local",
        "wéb.emojivoto.serviceaccount.identity.linkerd.cluster.local", "*.emojivoto.serviceaccount.identity.linkerd.cluster.local",
    ];

    /// <summary><c>identity-fuzz mutate-setup DIR</c>: the issuer, anchors and JWKS the server is started with.</summary>
    public static void Setup(string dir)
    {
        Directory.CreateDirectory(dir);
        using var issuer = FuzzServer.WritePki(dir);
        File.WriteAllText(Path.Combine(dir, "jwks.json"), FuzzJwks.Signer().CreateJwksJson());
    }

    /// <summary><c>identity-fuzz mutate ADDR DIR COUNT [SEED]</c>: returns the number of contract violations.</summary>
    public static int Run(string address, string dir, int count, int seed)
    {
        using var issuer = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "issuer", "crt.pem"));
        using var channel = GrpcChannel.ForAddress(address.StartsWith("http", StringComparison.Ordinal) ? address : "http://" + address);
        var client = new Protocol.Identity.IdentityClient(channel);
        var random = new Random(seed);
        var signer = FuzzJwks.Signer();
        var web = FuzzServer.IdentityOf("emojivoto", "web");
        var token = Encoding.ASCII.GetBytes(signer.Mint("emojivoto", "web", lifetime: TimeSpan.FromDays(36500)));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = ProxyCsr(key, web);
        var codes = new Dictionary<StatusCode, int>();
        var violations = 0;
        var watch = Stopwatch.StartNew();
        var requests = Enumerable.Range(0, count).Select(_ => Mutate(random, web, token, csr)).ToList();
        var results = new (StatusCode Code, string? Violation)[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            var (identity, mutatedToken, mutatedCsr) = requests[i];
            var (response, status) = Send(client, identity, mutatedToken, mutatedCsr);

            string? violation = null;
            try
            {
                CertifyContract.Check(response, status, issuer, identity, response is null ? null : FuzzJwks.SignedIdentity(mutatedToken), mutatedCsr);
            }
            catch (ContractViolationException e)
            {
                violation = e.Message;
            }

            results[i] = (status.StatusCode, violation);
        });

        foreach (var (code, violation) in results)
        {
            codes[code] = codes.GetValueOrDefault(code) + 1;
            if (violation is not null)
            {
                violations++;
                if (violations <= 20)
                {
                    Console.WriteLine($"VIOLATION ({code}): {violation}");
                }
            }
        }

        Console.WriteLine($"{count} mutated Certify requests in {watch.Elapsed.TotalSeconds:0.0} s (seed {seed}): "
            + string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}")) + $"; {violations} contract violations");
        return violations;
    }

    /// <summary>
    /// <c>identity-fuzz smoke ADDR DIR</c>: one valid Certify (must be issued, under the contract) and one with a
    /// malformed token (must be INVALID_ARGUMENT); returns the number of failures. The AOT smoke test runs it.
    /// </summary>
    public static int Smoke(string address, string dir)
    {
        using var issuer = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, "issuer", "crt.pem"));
        using var channel = GrpcChannel.ForAddress(address.StartsWith("http", StringComparison.Ordinal) ? address : "http://" + address);
        var client = new Protocol.Identity.IdentityClient(channel);
        var web = FuzzServer.IdentityOf("emojivoto", "web");
        var token = Encoding.ASCII.GetBytes(FuzzJwks.Signer().Mint("emojivoto", "web", lifetime: TimeSpan.FromDays(36500)));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = ProxyCsr(key, web);
        var failures = 0;
        foreach (var (name, sent, expected) in new[] { ("valid", token, StatusCode.OK), ("malformed token", "not-a-jwt"u8.ToArray(), StatusCode.InvalidArgument) })
        {
            var (response, status) = Send(client, web, sent, csr);

            try
            {
                Contract.That(status.StatusCode == expected, $"{name}: expected {expected}, got {status.StatusCode} {status.Detail}");
                CertifyContract.Check(response, status, issuer, web, response is null ? null : FuzzJwks.SignedIdentity(sent), csr);
                Console.WriteLine($"{name}: {status.StatusCode}{(response is null ? $" ({status.Detail})" : ", leaf verified")}");
            }
            catch (ContractViolationException e)
            {
                failures++;
                Console.WriteLine("FAILED " + e.Message);
            }
        }

        return failures;
    }

    /// <summary>One Certify call with a 10 s deadline: the response, or the status it was refused with.</summary>
    private static (Protocol.CertifyResponse? Response, Status Status) Send(Protocol.Identity.IdentityClient client, string identity, byte[] token, byte[] csr)
    {
        try
        {
            return (client.Certify(new Protocol.CertifyRequest
            {
                Identity = identity,
                Token = Google.Protobuf.ByteString.CopyFrom(token),
                CertificateSigningRequest = Google.Protobuf.ByteString.CopyFrom(csr),
            }, deadline: DateTime.UtcNow.AddSeconds(10)), Status.DefaultSuccess);
        }
        catch (RpcException e)
        {
            return (null, e.Status);
        }
    }

    private static (string Identity, byte[] Token, byte[] Csr) Mutate(Random random, string identity, byte[] token, byte[] csr)
    {
        var choice = random.Next(10);
        return choice switch
        {
            < 5 => (identity, token, Mutated(random, csr)),
            < 8 => (identity, Mutated(random, token), csr),
            8 => (OddIdentities[random.Next(OddIdentities.Length)], token, csr),
            _ => (identity, Mutated(random, token), Mutated(random, csr)),
        };
    }

    private static byte[] Mutated(Random random, byte[] input)
    {
        var bytes = new List<byte>(input);
        for (var n = 1 + random.Next(4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes[at] = (byte)random.Next(256);
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] ProxyCsr(ECDsa key, string identity)
    {
        var request = new CertificateRequest("CN=" + identity, key, HashAlgorithmName.SHA256);
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName(identity);
        request.CertificateExtensions.Add(sans.Build());
        return request.CreateSigningRequest();
    }
}
