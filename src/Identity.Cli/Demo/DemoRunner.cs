using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Authentication;
using Identity.Client;
using Identity.Client.Tls;
using Identity.Client.Verification;
using Identity.Pki.Time;
using Identity.Server.Hosting;
using Identity.Server.Issuance;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Identity.Cli.Demo;

/// <summary>
/// <c>identity demo</c>: Linkerd's multicluster guide (one shared trust anchor, one issuer per cluster, a gateway
/// that admits only mTLS clients of the shared root) played out on 127.0.0.1 with two in-process identity servers,
/// then an issuer rotation under traffic. Every claim printed is checked; the exit code says whether all held.
/// </summary>
public static class DemoRunner
{
    private const string Test = "test";
    private const string PodinfoAccount = "podinfo";
    private const string FrontendAccount = "frontend";
    private const string GatewayNamespace = "linkerd-multicluster";
    private const string GatewayAccount = "linkerd-gateway";
    private const string ClientIdHeader = "l5d-client-id";
    private const string UpstreamIdHeader = "x-gateway-upstream-id";
    private const string UpstreamIssuerHeader = "x-gateway-upstream-issuer";

    private static readonly string PodinfoIdentity = DemoCluster.IdentityOf(Test, PodinfoAccount);
    private static readonly string FrontendIdentity = DemoCluster.IdentityOf(Test, FrontendAccount);
    private static readonly string GatewayIdentity = DemoCluster.IdentityOf(GatewayNamespace, GatewayAccount);

    /// <summary>Runs the demo, writing its story to <paramref name="output"/>.</summary>
    /// <returns>0 when every expectation held, 1 otherwise.</returns>
    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        var report = new DemoReport(output);
        var temp = Directory.CreateTempSubdirectory("identity-demo-");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A hung step must not hang CI: the whole story normally takes a few seconds.
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        report.Line("identity demo: two clusters (west, east), one shared trust anchor, one issuer per cluster; loopback only");
        report.Line($"working directory: {temp.FullName}");

        string? cleanupError;
        try
        {
            await using var demo = new Demo(report, temp.FullName);
            try
            {
                await demo.RunAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                report.Fail(timeout.IsCancellationRequested
                    ? "the demo did not finish within 60 s"
                    : $"the demo stopped: {e.GetType().Name}: {e.Message}");
            }
        }
        finally
        {
            // Also when the caller cancels: nothing is left behind in the temp directory.
            cleanupError = TryRemove(temp);
        }

        report.Line();
        report.Expect(cleanupError is null && !Directory.Exists(temp.FullName), cleanupError ?? $"removed {temp.FullName}");
        return report.Finish(clock.Elapsed);
    }

    /// <summary>The demo's state, so everything started is stopped whatever step fails.</summary>
    private sealed class Demo(DemoReport report, string directory) : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _stack = [];
        private readonly List<IDisposable> _disposables = [];
        private readonly Dictionary<string, string> _issuerNames = [];
        private readonly ConcurrentQueue<CertificateVerificationResult> _gatewayRefusals = new();

        private DemoCa _root = null!;
        private DemoCluster _west = null!;
        private DemoCluster _east = null!;
        private IdentityClient _eastPodinfo = null!;
        private IdentityClient _gateway = null!;
        private Uri _westPodinfoAddress = null!;
        private Uri _gatewayAddress = null!;
        private MeshTls _frontendTls = null!;

        public async Task RunAsync(CancellationToken ct)
        {
            var anchorsFile = Bootstrap();
            await StartServersAsync(anchorsFile, ct).ConfigureAwait(false);
            await StartServicesAsync(ct).ConfigureAwait(false);
            await FrontendCallsAsync(ct).ConfigureAwait(false);
            await RefusalsAsync(ct).ConfigureAwait(false);
            await RotateUnderTrafficAsync(ct).ConfigureAwait(false);
        }

        private T Own<T>(T disposable)
            where T : IDisposable
        {
            _disposables.Add(disposable);
            return disposable;
        }

        private string IssuerName(string keyId) => _issuerNames.TryGetValue(keyId, out var name) ? name : $"an unknown CA (key id {Short(keyId)})";

        private DemoCa NewIssuer(string label, DateTimeOffset now)
        {
            var issuer = Own(DemoCa.CreateIssuer(label, _root, now));
            _issuerNames[issuer.SubjectKeyId] = label;
            return issuer;
        }

        // 1. The seed guide's `step certificate create` commands, as Kubernetes-mounted volumes.
        private string Bootstrap()
        {
            report.Step("Bootstrap: one trust anchor, one issuer per cluster (step profiles, Kubernetes secret volumes)");
            var now = DateTimeOffset.UtcNow;
            _root = Own(DemoCa.CreateRoot("the shared root", "root.linkerd.cluster.local", now));
            var west = NewIssuer("west issuer", now);
            var east = NewIssuer("east issuer #1", now);
            report.Expect(_root.Certificate.SubjectName.Name == "CN=root.linkerd.cluster.local" && IsCa(_root, pathLength: 1),
                $"trust anchor {_root.Certificate.Subject} (root-ca: CA, pathlen 1, until {_root.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})");
            foreach (var issuer in new[] { west, east })
            {
                report.Expect(IsCa(issuer, pathLength: 0) && DemoCa.AuthorityKeyId(issuer.Certificate) == _root.SubjectKeyId
                        && issuer.Certificate.NotAfter.ToUniversalTime() - issuer.Certificate.NotBefore.ToUniversalTime() == DemoCa.IssuerValidity,
                    $"{issuer.Label}: {issuer.Certificate.Subject} (intermediate-ca, pathlen 0, --not-after 8760h), signed by the root, key id {Short(issuer.SubjectKeyId)}");
            }

            var trustRoots = Path.Combine(directory, "linkerd-identity-trust-roots");
            SecretVolume.Write(trustRoots, new Dictionary<string, string> { ["ca-bundle.crt"] = _root.CertificatePem }, new HashSet<string>());
            foreach (var (name, issuer) in new[] { ("west", west), ("east", east) })
            {
                var issuerDirectory = DemoCluster.IssuerDirectoryOf(Path.Combine(directory, name));
                DemoCluster.WriteIssuer(issuerDirectory, issuer);
                var data = SecretVolume.CurrentDataDirectory(issuerDirectory);
                var keyMode = OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(Path.Combine(issuerDirectory, data, "key.pem"));
                report.Expect(
                    new FileInfo(Path.Combine(issuerDirectory, "crt.pem")).LinkTarget == Path.Combine("..data", "crt.pem")
                        && File.ReadAllText(Path.Combine(issuerDirectory, "crt.pem")) == issuer.CertificatePem
                        && (OperatingSystem.IsWindows() || keyMode == (UnixFileMode.UserRead | UnixFileMode.UserWrite)),
                    $"{name}/linkerd-identity-issuer: ..data -> {data}, crt.pem -> ..data/crt.pem, key.pem -> ..data/key.pem (mode 0600)");
            }

            var anchors = Path.Combine(trustRoots, "ca-bundle.crt");
            report.Expect(File.ReadAllText(anchors) == _root.CertificatePem, "linkerd-identity-trust-roots/ca-bundle.crt holds the shared root");
            return anchors;
        }

        // 2. Two identity servers, each validating its own cluster's ServiceAccount tokens.
        private async Task StartServersAsync(string anchorsFile, CancellationToken ct)
        {
            report.Step("Start two identity servers (trust domain cluster.local, namespace linkerd, JWKS token validation)");
            _west = await DemoCluster.StartAsync("west", Path.Combine(directory, "west"), anchorsFile, ct).ConfigureAwait(false);
            _stack.Add(_west);
            _east = await DemoCluster.StartAsync("east", Path.Combine(directory, "east"), anchorsFile, ct).ConfigureAwait(false);
            _stack.Add(_east);
            foreach (var cluster in new[] { _west, _east })
            {
                report.Expect(cluster.GrpcEndpoint.Address.Equals(IPAddress.Loopback) && cluster.GrpcEndpoint.Port > 0,
                    $"{cluster.Name} identity server on {cluster.GrpcEndpoint} (gRPC over TLS 1.3 as {DemoCluster.ServerIdentity}); tokens from {cluster.Tokens.Issuer}");
            }

            // Each cluster trusts only its own token issuer: a west token is worthless to east's identity server.
            using var stray = _east.CreateWorkload(Test, FrontendAccount, tokenIssuer: _west.Tokens);
            try
            {
                await stray.CertifyAsync(ct).ConfigureAwait(false);
                report.Fail("east identity server accepted a token minted by west's issuer");
            }
            catch (CertifyException e)
            {
                report.Expect(e.Reason == CertifyFailureReason.ServerError && e.Message.Contains("token", StringComparison.OrdinalIgnoreCase),
                    $"east identity server refuses a west token: {e.Message}");
            }
        }

        // 3. podinfo in both clusters and the gateway in east, each certified by its own cluster's identity server.
        private async Task StartServicesAsync(CancellationToken ct)
        {
            report.Step("Start podinfo in west and east, and east's multicluster gateway (certificates from their own cluster)");
            _westPodinfoAddress = await StartPodinfoAsync(_west, ct).ConfigureAwait(false);
            var (eastPodinfo, eastPodinfoAddress) = await StartPodinfoWithClientAsync(_east, ct).ConfigureAwait(false);
            _eastPodinfo = eastPodinfo;

            _gateway = Own(_east.CreateWorkload(GatewayNamespace, GatewayAccount));
            var credentials = await _gateway.CertifyAsync(ct).ConfigureAwait(false);
            ExpectCertified(credentials, GatewayIdentity, "east issuer #1", "gateway");
            var gatewayTls = _gateway.CreateMeshTls();
            gatewayTls.PeerVerified += (_, e) =>
            {
                if (!e.Result.Succeeded)
                {
                    _gatewayRefusals.Enqueue(e.Result);
                }
            };
            var upstream = Own(new MeshHttpClient(gatewayTls, PodinfoIdentity));
            var (gateway, address) = await MeshService.StartAsync(gatewayTls, context => ForwardAsync(context, upstream, eastPodinfoAddress), ct).ConfigureAwait(false);
            _stack.Add(gateway);
            _gatewayAddress = address;
            report.Info($"east gateway listening on {address.Authority}: mTLS required, peers must chain to the shared root; forwards to east podinfo over mTLS");
        }

        private async Task<Uri> StartPodinfoAsync(DemoCluster cluster, CancellationToken ct) =>
            (await StartPodinfoWithClientAsync(cluster, ct).ConfigureAwait(false)).Address;

        private async Task<(IdentityClient Client, Uri Address)> StartPodinfoWithClientAsync(DemoCluster cluster, CancellationToken ct)
        {
            var client = Own(cluster.CreateWorkload(Test, PodinfoAccount));
            var credentials = await client.CertifyAsync(ct).ConfigureAwait(false);
            ExpectCertified(credentials, PodinfoIdentity, cluster.Name == "west" ? "west issuer" : "east issuer #1", $"{cluster.Name} podinfo");
            var greeting = $"greetings from {cluster.Name}";
            var (app, address) = await MeshService.StartAsync(client.CreateMeshTls(), async context =>
            {
                context.Response.Headers[ClientIdHeader] = MeshService.ClientIdentity(context) ?? "";
                await context.Response.WriteAsync(greeting, context.RequestAborted).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            _stack.Add(app);
            report.Info($"{cluster.Name} podinfo answering \"{greeting}\" on {address.Authority} (mTLS, client certificate required)");
            return (client, address);
        }

        private static async Task ForwardAsync(HttpContext context, MeshHttpClient upstream, Uri podinfo)
        {
            try
            {
                var answer = await upstream.GetAsync(podinfo, context.RequestAborted).ConfigureAwait(false);
                using (answer.Message)
                {
                    context.Response.StatusCode = (int)answer.Status;
                    context.Response.Headers[UpstreamIdHeader] = answer.Peer.Identity;
                    context.Response.Headers[UpstreamIssuerHeader] = answer.Peer.IssuerKeyId;
                    context.Response.Headers[ClientIdHeader] = answer.Message.Headers.TryGetValues(ClientIdHeader, out var seen) ? string.Join(",", seen) : "";
                    await context.Response.WriteAsync(answer.Body, context.RequestAborted).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is HttpRequestException or AuthenticationException or IOException or InvalidOperationException)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                await context.Response.WriteAsync($"gateway: upstream failed: {e.Message}", context.RequestAborted).ConfigureAwait(false);
            }
        }

        // 4. The frontend calls podinfo locally and across the gateway; identities come from the handshakes.
        private async Task FrontendCallsAsync(CancellationToken ct)
        {
            report.Step("frontend in west calls podinfo in west directly and podinfo in east through the gateway");
            var frontend = Own(_west.CreateWorkload(Test, FrontendAccount));
            var credentials = await frontend.CertifyAsync(ct).ConfigureAwait(false);
            ExpectCertified(credentials, FrontendIdentity, "west issuer", "frontend");
            _frontendTls = frontend.CreateMeshTls();

            using (var toWest = new MeshHttpClient(_frontendTls, PodinfoIdentity))
            {
                var answer = await toWest.GetAsync(new Uri(_westPodinfoAddress, "/"), ct).ConfigureAwait(false);
                using (answer.Message)
                {
                    report.Info($"GET {_westPodinfoAddress.Authority} (west podinfo) -> {(int)answer.Status} \"{answer.Body}\"");
                    report.Expect(answer.Status == HttpStatusCode.OK && answer.Body == "greetings from west", "west podinfo answered: greetings from west");
                    report.Expect(answer.Peer.Identity == PodinfoIdentity && IssuerName(answer.Peer.IssuerKeyId) == "west issuer",
                        $"verified peer {answer.Peer.Identity}, signed by {IssuerName(answer.Peer.IssuerKeyId)}");
                    var seen = Header(answer.Message, ClientIdHeader);
                    report.Expect(seen == FrontendIdentity, $"west podinfo verified its client as {seen}");
                }
            }

            using var toGateway = new MeshHttpClient(_frontendTls, GatewayIdentity);
            var east = await toGateway.GetAsync(new Uri(_gatewayAddress, "/"), ct).ConfigureAwait(false);
            using (east.Message)
            {
                report.Info($"GET {_gatewayAddress.Authority} (east gateway -> east podinfo) -> {(int)east.Status} \"{east.Body}\"");
                report.Expect(east.Status == HttpStatusCode.OK && east.Body == "greetings from east", "east podinfo answered through the gateway: greetings from east");
                report.Expect(east.Peer.Identity == GatewayIdentity && IssuerName(east.Peer.IssuerKeyId) == "east issuer #1",
                    $"verified peer {east.Peer.Identity}, signed by {IssuerName(east.Peer.IssuerKeyId)} (chains to the shared root)");
                var upstreamId = Header(east.Message, UpstreamIdHeader);
                var upstreamIssuer = IssuerName(Header(east.Message, UpstreamIssuerHeader));
                report.Expect(upstreamId == PodinfoIdentity && upstreamIssuer == "east issuer #1",
                    $"the gateway verified its upstream as {upstreamId}, signed by {upstreamIssuer}");
                var seen = Header(east.Message, ClientIdHeader);
                report.Expect(seen == GatewayIdentity, $"east podinfo saw the client as {seen} (through a gateway the client identity is lost, as in Linkerd)");
            }
        }

        // 5. Only clients of the shared root get through the gateway.
        private async Task RefusalsAsync(CancellationToken ct)
        {
            report.Step("The gateway refuses clients outside the mesh");
            var anchors = new[] { _root.Certificate };
            var bare = new MeshTls(new FixedCredentials(null), anchors);
            await ExpectRefusedAsync(bare, VerificationFailure.ClientCertificateRequired, "a client without a certificate", ct).ConfigureAwait(false);

            var now = DateTimeOffset.UtcNow;
            using var foreignRoot = DemoCa.CreateRoot("a foreign root", "root.linkerd.cluster.local", now);
            using var foreignIssuer = DemoCa.CreateIssuer("a foreign issuer", foreignRoot, now);
            var leaf = Own(foreignIssuer.CreateLeaf(FrontendIdentity, now));
            report.Info($"made a foreign root with the same name (CN=root.linkerd.cluster.local) and a leaf for {FrontendIdentity} under it");
            var foreign = new MeshTls(new FixedCredentials(WorkloadCredentials.Create(leaf, [foreignIssuer.Certificate])), anchors);
            await ExpectRefusedAsync(foreign, VerificationFailure.UntrustedChain, "a client whose certificate comes from a foreign root", ct).ConfigureAwait(false);
        }

        private async Task ExpectRefusedAsync(MeshTls tls, VerificationFailure expected, string who, CancellationToken ct)
        {
            _gatewayRefusals.Clear();
            using var client = new MeshHttpClient(tls, GatewayIdentity);
            string clientSaw;
            try
            {
                using var answer = (await client.GetAsync(new Uri(_gatewayAddress, "/"), ct).ConfigureAwait(false)).Message;
                clientSaw = $"an answer ({(int)answer.StatusCode})";
            }
            catch (HttpRequestException e)
            {
                clientSaw = Innermost(e);
            }

            var refusal = _gatewayRefusals.TryDequeue(out var r) ? r : null;
            report.Expect(refusal is not null && refusal.Failure == expected && !clientSaw.StartsWith("an answer", StringComparison.Ordinal),
                $"{who}: refused by the gateway: \"{refusal?.Message ?? "(no refusal recorded)"}\" ({refusal?.Failure.ToString() ?? "-"})");
            report.Info($"the client saw: {clientSaw}");
        }

        // 6. A new east issuer while traffic flows: no call may fail.
        private async Task RotateUnderTrafficAsync(CancellationToken ct)
        {
            report.Step("Rotate east's issuer under traffic (frontend keeps calling east through the gateway)");
            using var toGateway = new MeshHttpClient(_frontendTls, GatewayIdentity);
            using var traffic = new Traffic();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var loop = Task.Run(() => traffic.RunAsync(toGateway, new Uri(_gatewayAddress, "/"), stop.Token), CancellationToken.None);
            try
            {
                await traffic.WaitForAsync(c => c.Calls >= 5, ct).ConfigureAwait(false);
                report.Info($"traffic running: {traffic.Calls} calls so far, {traffic.Failures} failed");

                var updatedBefore = _east.Events.Updated;
                var east2 = NewIssuer("east issuer #2", DateTimeOffset.UtcNow);
                var before = SecretVolume.CurrentDataDirectory(_east.IssuerDirectory);
                DemoCluster.WriteIssuer(_east.IssuerDirectory, east2);
                var after = SecretVolume.CurrentDataDirectory(_east.IssuerDirectory);
                report.Expect(before != after && !Directory.Exists(Path.Combine(_east.IssuerDirectory, before))
                        && File.ReadAllText(Path.Combine(_east.IssuerDirectory, "crt.pem")) == east2.CertificatePem,
                    $"wrote east issuer #2 (same root, key id {Short(east2.SubjectKeyId)}): ..data swapped {before} -> {after}");

                // The kubelet also rotates projected tokens; the clients re-read their token file on every call.
                _east.RefreshToken(Test, PodinfoAccount);
                _east.RefreshToken(GatewayNamespace, GatewayAccount);
                report.Info("fresh ServiceAccount tokens written for east podinfo and the gateway (re-read by their clients)");

                // Usually the server's watcher has already taken the swap; the explicit re-read makes it certain.
                var reload = IdentityServerHost.ReloadIssuer(_east.Server);
                report.Expect(_east.Events.Updated == updatedBefore + 1 && _east.Events.Problems.Count == 0,
                    $"east identity server raised IssuerUpdated (\"Updated identity issuer\") once; "
                    + (reload == IssuerReloadResult.Updated ? "taken by the explicit reload" : $"taken by its file watcher (explicit reload: {reload})")
                    + (_east.Events.Problems.Count == 0 ? "" : $"; problems: {string.Join("; ", _east.Events.Problems)}"));

                foreach (var (client, name) in new[] { (_eastPodinfo, "east podinfo"), (_gateway, "gateway") })
                {
                    var renewed = await client.CertifyAsync(ct).ConfigureAwait(false);
                    ExpectCertified(renewed, client.LocalIdentity, "east issuer #2", $"{name} renewed");
                }

                var issuerKey = east2.SubjectKeyId;
                await traffic.WaitForAsync(c => c.CallsThrough(issuerKey) >= 20, ct).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await loop.ConfigureAwait(false);
            }

            foreach (var (issuer, count) in traffic.GatewayIssuers().OrderBy(i => IssuerName(i.Key), StringComparer.Ordinal))
            {
                report.Info($"{count} calls answered by a gateway certificate from {IssuerName(issuer)}");
            }

            foreach (var failure in traffic.FailureMessages.Take(3))
            {
                report.Info($"failed call: {failure}");
            }

            var newKey = _issuerNames.First(n => n.Value == "east issuer #2").Key;
            var oldKey = _issuerNames.First(n => n.Value == "east issuer #1").Key;
            report.Expect(traffic.CallsThrough(oldKey) > 0 && traffic.CallsThrough(newKey) > 0,
                "the issuer the frontend verified on the gateway changed from east issuer #1 to east issuer #2");
            report.Expect(traffic.UpstreamThrough(newKey) > 0, "the gateway then verified east podinfo's certificate from east issuer #2");
            report.Expect(traffic.Calls > 0 && traffic.Failures == 0, $"{traffic.Calls} calls during the rotation, {traffic.Failures} failed");

            // West never noticed: its issuer, its workloads and the shared root are untouched.
            using var toWest = new MeshHttpClient(_frontendTls, PodinfoIdentity);
            var west = await toWest.GetAsync(new Uri(_westPodinfoAddress, "/"), ct).ConfigureAwait(false);
            using (west.Message)
            {
                report.Expect(west.Status == HttpStatusCode.OK && west.Body == "greetings from west" && IssuerName(west.Peer.IssuerKeyId) == "west issuer",
                    $"west is unaffected: \"{west.Body}\" from {west.Peer.Identity}, still signed by {IssuerName(west.Peer.IssuerKeyId)}");
            }
        }

        private void ExpectCertified(WorkloadCredentials credentials, string identity, string issuer, string who)
        {
            var signer = IssuerName(DemoCa.AuthorityKeyId(credentials.Certificate));
            report.Expect(credentials.Identity == identity && signer == issuer && credentials.Intermediates.Count > 0,
                $"{who}: certified as {credentials.Identity} by {signer} (until {GoTime.Rfc3339(credentials.NotAfter)})");
        }

        public async ValueTask DisposeAsync()
        {
            for (var i = _stack.Count - 1; i >= 0; i--)
            {
                await _stack[i].DisposeAsync().ConfigureAwait(false);
            }

            for (var i = _disposables.Count - 1; i >= 0; i--)
            {
                _disposables[i].Dispose();
            }
        }
    }

    /// <summary>The frontend's call loop during the rotation: counts calls and failures, and who answered.</summary>
    private sealed class Traffic : IDisposable
    {
        private readonly ConcurrentDictionary<string, int> _gatewayIssuers = new();
        private readonly ConcurrentDictionary<string, int> _upstreamIssuers = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private readonly SemaphoreSlim _progress = new(0);
        private int _calls;
        private int _failed;

        public int Calls => Volatile.Read(ref _calls);

        public int Failures => Volatile.Read(ref _failed);

        public IEnumerable<string> FailureMessages => _failures;

        public int CallsThrough(string issuerKeyId) => _gatewayIssuers.GetValueOrDefault(issuerKeyId);

        public int UpstreamThrough(string issuerKeyId) => _upstreamIssuers.GetValueOrDefault(issuerKeyId);

        public ConcurrentDictionary<string, int> GatewayIssuers() => _gatewayIssuers;

        public void Dispose() => _progress.Dispose();

        public async Task RunAsync(MeshHttpClient client, Uri gateway, CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var answer = await client.GetAsync(gateway, ct).ConfigureAwait(false);
                    using (answer.Message)
                    {
                        if (answer.Status == HttpStatusCode.OK && answer.Body == "greetings from east")
                        {
                            _gatewayIssuers.AddOrUpdate(answer.Peer.IssuerKeyId, 1, (_, n) => n + 1);
                            _upstreamIssuers.AddOrUpdate(Header(answer.Message, UpstreamIssuerHeader), 1, (_, n) => n + 1);
                        }
                        else
                        {
                            Interlocked.Increment(ref _failed);
                            _failures.Enqueue($"{(int)answer.Status} {answer.Body}");
                        }
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or AuthenticationException or IOException or InvalidOperationException or TaskCanceledException)
                {
                    Interlocked.Increment(ref _failed);
                    _failures.Enqueue(Innermost(e));
                }

                Interlocked.Increment(ref _calls);
                _progress.Release();
            }
        }

        /// <summary>Waits (on call completions, not on a clock) until <paramref name="condition"/> holds.</summary>
        public async Task WaitForAsync(Func<Traffic, bool> condition, CancellationToken ct)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                while (!condition(this))
                {
                    await _progress.WaitAsync(limit.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"the traffic did not reach the expected state within 10 s ({Calls} calls, {Failures} failed)");
            }
        }
    }

    private static bool IsCa(DemoCa ca, int pathLength) =>
        ca.Certificate.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension>().FirstOrDefault() is
        { CertificateAuthority: true, HasPathLengthConstraint: true } bc && bc.PathLengthConstraint == pathLength;

    private static string Header(HttpResponseMessage message, string name) =>
        message.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    private static string? TryRemove(DirectoryInfo directory)
    {
        try
        {
            directory.Delete(recursive: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"could not remove {directory.FullName}: {e.Message}";
        }
    }

    private static string Short(string keyId) => keyId.Length > 8 ? keyId[..8] : keyId;

    private static string Innermost(Exception e)
    {
        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            messages.Add(x.Message);
        }

        return string.Join(" -> ", messages.Distinct());
    }
}
