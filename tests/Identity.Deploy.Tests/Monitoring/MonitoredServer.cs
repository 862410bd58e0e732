using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Identity.Deploy.Tests.Monitoring;

/// <summary>
/// A real `identity serve` (the CLI's own command tree, in-process, on loopback) validating tokens with TokenReview
/// against the Kubernetes API double, with a PKI made by `identity cert create`: an anchor with 50 days left and
/// an issuer with 20. Proxies' traffic is real Certify calls over gRPC.
/// </summary>
public sealed class MonitoredServer : IAsyncLifetime
{
    public const string ProxyNamespace = "emojivoto";
    public const string ProxyServiceAccount = "web";

    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();
    private FakeKubernetesApi? _kube;
    private Task<int>? _serve;
    private GrpcChannel? _channel;
    private Protocol.Identity.IdentityClient? _client;
    private readonly string _token = Token();

    public string WorkDir { get; } = Directory.CreateTempSubdirectory("identity-monitoring-").FullName;

    public int AdminPort { get; } = LoopbackPort.Free();

    public int GrpcPort { get; } = LoopbackPort.Free();

    /// <summary>The served issuer's and anchor's NotAfter.</summary>
    public DateTimeOffset IssuerNotAfter { get; private set; }

    public DateTimeOffset AnchorNotAfter { get; private set; }

    public HttpClient Admin { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var anchors = Path.Combine(WorkDir, "ca.crt");
        var anchorKey = Path.Combine(WorkDir, "ca.key");
        var issuer = Path.Combine(WorkDir, "issuer");
        Directory.CreateDirectory(issuer);
        Cli("cert", "create", "root.linkerd.cluster.local", anchors, anchorKey, "--profile", "root-ca", "--no-password", "--insecure", "--not-after", "1200h");
        Cli("cert", "create", "identity.linkerd.cluster.local", Path.Combine(issuer, "crt.pem"), Path.Combine(issuer, "key.pem"),
            "--profile", "intermediate-ca", "--ca", anchors, "--ca-key", anchorKey, "--no-password", "--insecure", "--not-after", "480h");
        using (var anchor = X509CertificateLoader.LoadCertificateFromFile(anchors))
        using (var issuing = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(issuer, "crt.pem")))
        {
            AnchorNotAfter = new DateTimeOffset(anchor.NotAfter.ToUniversalTime());
            IssuerNotAfter = new DateTimeOffset(issuing.NotAfter.ToUniversalTime());
        }

        _kube = await FakeKubernetesApi.StartAsync(ct);
        _kube.OnTokenReview = (review, _) => Task.FromResult(review.Token == _token
            ? FakeKubernetesApi.Authenticated($"system:serviceaccount:{ProxyNamespace}:{ProxyServiceAccount}", "identity.l5d.io")
            : FakeKubernetesApi.Unauthenticated());
        var kubeconfig = _kube.WriteKubeconfig(WorkDir);

        string[] args =
        [
            "serve", $"-addr=127.0.0.1:{GrpcPort}", $"-admin-addr=127.0.0.1:{AdminPort}", "-controller-namespace=linkerd",
            "-identity-trust-domain=cluster.local", $"-issuer={issuer}", $"-identity-trust-anchors-file={anchors}",
            $"-kubeconfig={kubeconfig}", "-log-level=error",
        ];
        var configuration = new InvocationConfiguration { Output = _stdout, Error = _stderr };
        _serve = Identity.Cli.Commands.CreateRoot().Parse(args).InvokeAsync(configuration, _stop.Token);
        Admin.BaseAddress = new Uri($"http://127.0.0.1:{AdminPort}");
        await WaitReadyAsync(ct);
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}");
        _client = new Protocol.Identity.IdentityClient(_channel);
    }

    /// <summary>One Certify from web.emojivoto with its projected token (reviewed once, then from the cache).</summary>
    public async Task CertifyAsync(CancellationToken cancellationToken)
    {
        var identity = $"{ProxyServiceAccount}.{ProxyNamespace}.serviceaccount.identity.linkerd.cluster.local";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await _client!.CertifyAsync(new Protocol.CertifyRequest
        {
            Identity = identity,
            Token = ByteString.CopyFromUtf8(_token),
            CertificateSigningRequest = ByteString.CopyFrom(TestCsr.Proxy(identity, key)),
        }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
        Assert.False(response.LeafCertificate.IsEmpty);
    }

    public async Task<string> ScrapeAsync(CancellationToken cancellationToken) => await Admin.GetStringAsync("/metrics", cancellationToken);

    /// <summary>What the server printed, for failure messages.</summary>
    public string Output => _stdout.ToString() + _stderr;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_serve is not null)
        {
            var exit = await _serve;
            Assert.True(exit == 0, $"identity serve exited {exit}: {Output}");
        }

        _channel?.Dispose();
        if (_kube is not null)
        {
            await _kube.DisposeAsync();
        }

        Admin.Dispose();
        _stop.Dispose();
        Directory.Delete(WorkDir, recursive: true);
    }

    /// <summary>A projected ServiceAccount token's shape (the API double does the judging); expires in a day.</summary>
    private static string Token()
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds();
        return Encode("""{"alg":"RS256","kid":"cluster-key"}""") + "."
            + Encode($$"""{"sub":"system:serviceaccount:{{ProxyNamespace}}:{{ProxyServiceAccount}}","exp":{{exp}}}""")
            + ".c2lnbmF0dXJl";
    }

    private static void Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = Identity.Cli.Commands.CreateRoot().Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        Assert.True(exit == 0, $"identity {string.Join(' ', args)} exited {exit}: {stderr}");
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            Assert.False(_serve!.IsCompleted, $"identity serve stopped before it was ready: {Output}");
            try
            {
                if ((await Admin.GetAsync("/ready", bounded.Token)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50, bounded.Token);
        }
    }
}
