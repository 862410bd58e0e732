using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Identity.Bench;
using Identity.Protocol;
using Identity.Server;
using Identity.Server.Hosting;
using Identity.Server.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IdentityGrpc = Identity.Protocol.Identity;

// Usage: Identity.Bench (--self-host [--audit-log] | --target http://host:port) [--workloads 100] [--concurrency 32] [--duration 5]
var settings = BenchSettings.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine("usage: Identity.Bench (--self-host [--audit-log] | --target http://host:port) [--workloads N] [--concurrency C] [--duration SECONDS]");
    return 1;
}

Console.WriteLine($"cores={Environment.ProcessorCount} workloads={settings.Workloads} concurrency={settings.Concurrency} duration={settings.Duration.TotalSeconds}s");

var crypto = CryptoLimit.Measure(TimeSpan.FromSeconds(Math.Max(1, settings.Duration.TotalSeconds / 2)));
Console.WriteLine($"crypto limit: {crypto:F0} ops/s (one ECDSA P-256 verify + one sign per op, all cores)");

SelfHost? host = null;
var target = settings.Target;
if (settings.SelfHost)
{
    host = await SelfHost.StartAsync(settings.AuditLog);
    target = host.Address;
    Console.WriteLine($"self-hosted server on {target}");
}

try
{
    var requests = Workloads.Build(settings.Workloads);
    using var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
    using var channel = GrpcChannel.ForAddress(target!, new GrpcChannelOptions { HttpHandler = handler });
    var client = new IdentityGrpc.IdentityClient(channel);

    // Warm up connections, JIT and the server's CSR cache, as a proxy fleet would after its first renewal.
    foreach (var request in requests)
    {
        await client.CertifyAsync(request);
    }

    var result = await LoadRun.RunAsync(client, requests, settings.Concurrency, settings.Duration);
    result.Print(crypto);
    return result.Errors.IsEmpty ? 0 : 2;
}
finally
{
    if (host is not null)
    {
        await host.DisposeAsync();
    }
}

namespace Identity.Bench
{
    internal sealed record BenchSettings(bool SelfHost, string? Target, int Workloads, int Concurrency, TimeSpan Duration, bool AuditLog)
    {
        public static BenchSettings? Parse(string[] args)
        {
            bool selfHost = false, audit = false;
            string? target = null;
            int workloads = 100, concurrency = 32;
            double seconds = 5;
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : "";
                switch (args[i])
                {
                    case "--self-host": selfHost = true; break;
                    case "--audit-log": audit = true; break;
                    case "--target": target = Next(); break;
                    case "--workloads": if (!int.TryParse(Next(), CultureInfo.InvariantCulture, out workloads)) { return null; } break;
                    case "--concurrency": if (!int.TryParse(Next(), CultureInfo.InvariantCulture, out concurrency)) { return null; } break;
                    case "--duration": if (!double.TryParse(Next(), CultureInfo.InvariantCulture, out seconds)) { return null; } break;
                    default: return null;
                }
            }

            return selfHost == (target is not null) || workloads < 1 || concurrency < 1 || seconds <= 0
                ? null
                : new BenchSettings(selfHost, target, workloads, concurrency, TimeSpan.FromSeconds(seconds), audit);
        }
    }

    /// <summary>Pre-built requests: one key, CSR and token per workload, as each proxy resends the same CSR.</summary>
    internal static class Workloads
    {
        public static CertifyRequest[] Build(int count) => [.. Enumerable.Range(0, count).Select(i =>
        {
            var identity = $"sa-{i}.bench.serviceaccount.identity.linkerd.cluster.local";
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={identity}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(identity);
            request.CertificateExtensions.Add(san.Build());
            return new CertifyRequest
            {
                Identity = identity,
                // The self-hosted validator reads the token as the username, like an accepting TokenReview would return it.
                Token = ByteString.CopyFromUtf8($"system:serviceaccount:bench:sa-{i}"),
                CertificateSigningRequest = ByteString.CopyFrom(request.CreateSigningRequest()),
            };
        })];
    }

    /// <summary>The machine's ceiling for what Certify must do cryptographically: verify a CSR and sign a leaf.</summary>
    internal static class CryptoLimit
    {
        public static double Measure(TimeSpan duration)
        {
            using var csrKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var data = RandomNumberGenerator.GetBytes(400); // about the size of a leaf's TBSCertificate
            var signature = csrKey.SignData(data, HashAlgorithmName.SHA256);
            long ops = 0;
            var stopwatch = Stopwatch.StartNew();
            Parallel.For(0, Environment.ProcessorCount, _ =>
            {
                long local = 0;
                while (stopwatch.Elapsed < duration)
                {
                    if (!csrKey.VerifyData(data, signature, HashAlgorithmName.SHA256))
                    {
                        throw new CryptographicException("verify failed");
                    }

                    issuerKey.SignData(data, HashAlgorithmName.SHA256);
                    local++;
                }

                Interlocked.Add(ref ops, local);
            });
            return ops / stopwatch.Elapsed.TotalSeconds;
        }
    }

    internal sealed record LoadResult(long[] LatencyTicks, ConcurrentDictionary<string, int> Errors, TimeSpan Elapsed)
    {
        public void Print(double cryptoLimit)
        {
            Array.Sort(LatencyTicks);
            double Percentile(double p) => LatencyTicks.Length == 0 ? 0
                : LatencyTicks[Math.Min(LatencyTicks.Length - 1, (int)(p * LatencyTicks.Length))] * 1000.0 / Stopwatch.Frequency;
            var rate = LatencyTicks.Length / Elapsed.TotalSeconds;
            var sb = new StringBuilder();
            sb.AppendLine(CultureInfo.InvariantCulture, $"requests: {LatencyTicks.Length} ok, {Errors.Values.Sum()} errors in {Elapsed.TotalSeconds:F1}s");
            sb.AppendLine(CultureInfo.InvariantCulture, $"throughput: {rate:F0} Certify/s ({rate / cryptoLimit:P0} of the crypto limit)");
            sb.AppendLine(CultureInfo.InvariantCulture, $"latency ms: p50={Percentile(0.50):F2} p90={Percentile(0.90):F2} p99={Percentile(0.99):F2} max={Percentile(1):F2}");
            foreach (var (error, count) in Errors)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"error x{count}: {error}");
            }

            Console.Write(sb.ToString());
        }
    }

    internal static class LoadRun
    {
        public static async Task<LoadResult> RunAsync(IdentityGrpc.IdentityClient client, CertifyRequest[] requests, int concurrency, TimeSpan duration)
        {
            var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var perWorker = new List<long>[concurrency];
            var stopwatch = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                var latencies = perWorker[w] = new List<long>(4096);
                var next = w;
                while (stopwatch.Elapsed < duration)
                {
                    var request = requests[next++ % requests.Length];
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        await client.CertifyAsync(request);
                        latencies.Add(Stopwatch.GetTimestamp() - started);
                    }
                    catch (RpcException e)
                    {
                        errors.AddOrUpdate($"{e.StatusCode}: {e.Status.Detail}", 1, (_, n) => n + 1);
                    }
                }
            })).ToArray();
            await Task.WhenAll(workers);
            return new LoadResult([.. perWorker.SelectMany(l => l)], errors, stopwatch.Elapsed);
        }
    }

    /// <summary>Accepts any token whose bytes are a username (bench only: no authentication at all).</summary>
    internal sealed class AcceptAllTokenValidator : ITokenValidator
    {
        public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken) =>
            ValueTask.FromResult(TokenReviewResult.Success(Encoding.UTF8.GetString(token.Span), null));
    }

    /// <summary>The real server in-process with a throw-away root and issuer, so the bench runs with one command.</summary>
    internal sealed class SelfHost : IAsyncDisposable
    {
        private readonly Microsoft.AspNetCore.Builder.WebApplication app;
        private readonly string directory;

        private SelfHost(Microsoft.AspNetCore.Builder.WebApplication app, string directory)
        {
            this.app = app;
            this.directory = directory;
        }

        public string Address => $"http://127.0.0.1:{IdentityServerHost.GetGrpcEndpoint(app).Port}";

        public static async Task<SelfHost> StartAsync(bool auditLog)
        {
            var dir = Directory.CreateTempSubdirectory("identity-bench-").FullName;
            var now = DateTimeOffset.UtcNow;
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var rootRequest = new CertificateRequest("CN=bench root", rootKey, HashAlgorithmName.SHA256);
            rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            using var root = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(2));
            using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var issuerRequest = new CertificateRequest("CN=identity.linkerd.cluster.local", issuerKey, HashAlgorithmName.SHA256);
            issuerRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            issuerRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            issuerRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(issuerRequest.PublicKey, false));
            using var issuer = issuerRequest.Create(root, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
            Directory.CreateDirectory(Path.Combine(dir, "issuer"));
            await File.WriteAllTextAsync(Path.Combine(dir, "issuer", "key.pem"), issuerKey.ExportECPrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(dir, "issuer", "crt.pem"), issuer.ExportCertificatePem());
            await File.WriteAllTextAsync(Path.Combine(dir, "roots.crt"), root.ExportCertificatePem());

            var builder = IdentityServerHost.CreateBuilder(o =>
            {
                o.Addr = "127.0.0.1:0";
                o.AdminAddr = "127.0.0.1:0";
                o.ControllerNamespace = "linkerd";
                o.TrustDomain = "cluster.local";
                o.IssuerDirectory = Path.Combine(dir, "issuer");
                o.TrustAnchorsFile = Path.Combine(dir, "roots.crt");
            });
            // The per-certificate audit line is Information: off by default so the run measures the CA, on with
            // --audit-log (to the console, as `identity serve` does) to measure what the audit trail costs.
            builder.Logging.SetMinimumLevel(auditLog ? LogLevel.Information : LogLevel.Warning);
            builder.Services.AddSingleton<ITokenValidator, AcceptAllTokenValidator>();
            var app = IdentityServerHost.Build(builder);
            await app.StartAsync();
            return new SelfHost(app, dir);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
