using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Identity.Testing;

/// <summary>A TokenReview as the API server received it.</summary>
public sealed record ReceivedReview(string? ApiVersion, string? Kind, string? Token, IReadOnlyList<string>? Audiences, string? Authorization);

/// <summary>
/// A local HTTPS double of the Kubernetes API server (real Kestrel on 127.0.0.1:0, a serving certificate from its
/// own test CA that the client trusts through its configuration). It answers TokenReviews, access reviews and
/// event posts as each test programs them, and core/v1 GETs of Secrets and ConfigMaps from a store the test fills
/// (bearer-token checked, with the JSON shapes and <c>Status</c> errors a real API server returns). Compiled into
/// the test projects that set UseFakeKubernetesApi.
/// </summary>
public sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string BearerToken = "test-client-bearer";

    private readonly WebApplication _app;
    private readonly Dictionary<string, Dictionary<string, byte[]>> _secrets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _secretTypes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _configMaps = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private readonly Lock _gate = new();
    private int _inFlight;
    private int _maxInFlight;

    private FakeKubernetesApi(WebApplication app, X509Certificate2 ca)
    {
        _app = app;
        CaCertificate = ca;
    }

    /// <summary>The CA of the serving certificate; a kubeconfig trusts it through certificate-authority-data.</summary>
    public X509Certificate2 CaCertificate { get; }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Paths of the requests received, in order.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToList();
            }
        }
    }

    /// <summary>When set, every request is answered with this status (e.g. 403) instead.</summary>
    public HttpStatusCode? ForcedStatus { get; set; }

    public ConcurrentQueue<ReceivedReview> Reviews { get; } = new();

    public ConcurrentQueue<JsonObject> AccessReviews { get; } = new();

    public ConcurrentQueue<(string Namespace, JsonObject Event)> Events { get; } = new();

    public int ReviewCount => Reviews.Count;

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Answers TokenReviews; default: authenticated as <c>system:serviceaccount:default:default</c>.</summary>
    public Func<ReceivedReview, CancellationToken, Task<IResult>> OnTokenReview { get; set; } =
        (_, _) => Task.FromResult(Authenticated("system:serviceaccount:default:default"));

    /// <summary>Answers SelfSubjectAccessReviews; default allowed.</summary>
    public Func<JsonObject, IResult> OnAccessReview { get; set; } = _ => AccessReply(true, "");

    /// <summary>Answers event posts; default 201 Created echoing the event.</summary>
    public Func<JsonObject, CancellationToken, Task<IResult>> OnEvent { get; set; } = (body, _) => Task.FromResult(Results.Json(body, statusCode: 201));

    /// <summary>Raised whenever an event post arrives (after it was recorded).</summary>
    public event Action? EventArrived;

    /// <summary>Extra GET routes (e.g. OIDC discovery and JWKS), by path.</summary>
    public ConcurrentDictionary<string, Func<HttpContext, Task>> Routes { get; } = new();

    /// <summary>Raised whenever a TokenReview arrives (after it was recorded).</summary>
    public event Action? ReviewArrived;

    public static async Task<FakeKubernetesApi> StartAsync(CancellationToken cancellationToken = default)
    {
        var (ca, serving) = CreateServingChain();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(serving)));
        var app = builder.Build();
        var api = new FakeKubernetesApi(app, ca);
        api.MapRoutes();
        await app.StartAsync(cancellationToken);
        var address = app.Urls.Single();
        api.BaseUri = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        return api;
    }

    /// <summary>Client configuration that trusts this server's CA and presents <see cref="BearerToken"/>.</summary>
    public KubernetesClientConfiguration ClientConfiguration() => new()
    {
        Host = BaseUri.ToString(),
        SslCaCerts = [CaCertificate],
        AccessToken = BearerToken,
    };

    public IKubernetes CreateClient() => new k8s.Kubernetes(ClientConfiguration());

    /// <summary>Writes a kubeconfig for this server (exercises the <c>-kubeconfig</c> path end to end).</summary>
    public string WriteKubeconfig(string directory)
    {
        var caData = Convert.ToBase64String(Encoding.ASCII.GetBytes(CaCertificate.ExportCertificatePem()));
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {BaseUri}
                certificate-authority-data: {caData}
            users:
            - name: tester
              user:
                token: {BearerToken}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: tester
            current-context: fake
            """);
        return path;
    }

    public void SetSecret(string ns, string name, string? type, IDictionary<string, string> data)
    {
        lock (_gate)
        {
            _secrets[$"{ns}/{name}"] = data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value), StringComparer.Ordinal);
            _secretTypes[$"{ns}/{name}"] = type;
        }
    }

    public void SetConfigMap(string ns, string name, IDictionary<string, string> data)
    {
        lock (_gate)
        {
            _configMaps[$"{ns}/{name}"] = new Dictionary<string, string>(data, StringComparer.Ordinal);
        }
    }

    /// <summary>Writes a kubeconfig with one context (named after its key) per double.</summary>
    public static string WriteKubeconfig(string path, IReadOnlyDictionary<string, FakeKubernetesApi> contexts, string? currentContext = null)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("apiVersion: v1").AppendLine("kind: Config");
        yaml.AppendLine($"current-context: {currentContext ?? contexts.Keys.First()}");
        yaml.AppendLine("clusters:");
        foreach (var (name, api) in contexts)
        {
            var ca = Convert.ToBase64String(Encoding.ASCII.GetBytes(api.CaCertificate.ExportCertificatePem()));
            yaml.AppendLine($"- name: {name}-cluster").AppendLine("  cluster:")
                .AppendLine($"    server: {api.BaseUri.ToString().TrimEnd('/')}")
                .AppendLine($"    certificate-authority-data: {ca}");
        }

        yaml.AppendLine("users:");
        foreach (var name in contexts.Keys)
        {
            yaml.AppendLine($"- name: {name}-user").AppendLine("  user:").AppendLine($"    token: {BearerToken}");
        }

        yaml.AppendLine("contexts:");
        foreach (var name in contexts.Keys)
        {
            yaml.AppendLine($"- name: {name}").AppendLine("  context:")
                .AppendLine($"    cluster: {name}-cluster").AppendLine($"    user: {name}-user");
        }

        File.WriteAllText(path, yaml.ToString());
        return path;
    }

    public static IResult Authenticated(string username, params string[] audiences) => Results.Json(new JsonObject
    {
        ["apiVersion"] = "authentication.k8s.io/v1",
        ["kind"] = "TokenReview",
        ["metadata"] = new JsonObject(),
        ["status"] = new JsonObject
        {
            ["authenticated"] = true,
            ["user"] = new JsonObject { ["username"] = username, ["uid"] = "0b1c", ["groups"] = new JsonArray("system:serviceaccounts") },
            ["audiences"] = new JsonArray(audiences.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
        },
    }, statusCode: 201);

    public static IResult ReviewError(string error) => Results.Json(new JsonObject
    {
        ["apiVersion"] = "authentication.k8s.io/v1",
        ["kind"] = "TokenReview",
        ["metadata"] = new JsonObject(),
        ["status"] = new JsonObject { ["user"] = new JsonObject(), ["error"] = error },
    }, statusCode: 201);

    public static IResult Unauthenticated() => Results.Json(new JsonObject
    {
        ["apiVersion"] = "authentication.k8s.io/v1",
        ["kind"] = "TokenReview",
        ["metadata"] = new JsonObject(),
        ["status"] = new JsonObject { ["user"] = new JsonObject() },
    }, statusCode: 201);

    public static IResult Status(int code, string reason, string message, JsonObject? details = null) => Results.Json(new JsonObject
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["details"] = details,
        ["code"] = code,
    }, statusCode: code);

    public static IResult AccessReply(bool allowed, string reason) => Results.Json(new JsonObject
    {
        ["apiVersion"] = "authorization.k8s.io/v1",
        ["kind"] = "SelfSubjectAccessReview",
        ["metadata"] = new JsonObject(),
        ["spec"] = new JsonObject(),
        ["status"] = new JsonObject { ["allowed"] = allowed, ["reason"] = reason },
    }, statusCode: 201);

    /// <summary>Completes once at least <paramref name="count"/> events have arrived.</summary>
    public Task WaitForEventsAsync(int count, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (Events.Count >= count)
            {
                done.TrySetResult();
            }
        }

        EventArrived += Check;
        Check();
        return done.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        CaCertificate.Dispose();
    }

    private void MapRoutes()
    {
        _app.Use(async (context, next) =>
        {
            lock (_gate)
            {
                _requests.Add(context.Request.Path.Value ?? string.Empty);
            }

            if (ForcedStatus is { } forced)
            {
                await Status((int)forced, forced.ToString(), $"forced {(int)forced}").ExecuteAsync(context);
                return;
            }

            if (HttpMethods.IsGet(context.Request.Method) && Routes.TryGetValue(context.Request.Path.Value ?? "", out var route))
            {
                await route(context);
                return;
            }

            await next(context);
        });

        _app.MapPost("/apis/authentication.k8s.io/v1/tokenreviews", async (HttpContext context) =>
        {
            var body = await ReadObjectAsync(context);
            var spec = body["spec"] as JsonObject;
            var audiences = spec?["audiences"] is JsonArray array ? array.Select(a => a!.GetValue<string>()).ToList() : null;
            var review = new ReceivedReview(
                body["apiVersion"]?.GetValue<string>(),
                body["kind"]?.GetValue<string>(),
                spec?["token"]?.GetValue<string>(),
                audiences,
                context.Request.Headers.Authorization.ToString());
            var now = Interlocked.Increment(ref _inFlight);
            UpdateMax(now);
            try
            {
                Reviews.Enqueue(review);
                ReviewArrived?.Invoke();
                return await OnTokenReview(review, context.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });

        _app.MapPost("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", async (HttpContext context) =>
        {
            var body = await ReadObjectAsync(context);
            AccessReviews.Enqueue(body);
            return OnAccessReview(body);
        });

        _app.MapGet("/api/v1/namespaces/{ns}/{kind}/{name}", (HttpContext context, string ns, string kind, string name) =>
        {
            if (context.Request.Headers.Authorization.ToString() != $"Bearer {BearerToken}")
            {
                return Status(401, "Unauthorized", "Unauthorized");
            }

            lock (_gate)
            {
                var key = $"{ns}/{name}";
                if (kind == "secrets" && _secrets.TryGetValue(key, out var secretData))
                {
                    return Results.Json(new Dictionary<string, object?>
                    {
                        ["kind"] = "Secret",
                        ["apiVersion"] = "v1",
                        ["metadata"] = new { name, @namespace = ns, uid = Guid.NewGuid().ToString(), resourceVersion = "1" },
                        ["type"] = _secretTypes[key] ?? "Opaque",
                        ["data"] = secretData.ToDictionary(kv => kv.Key, kv => Convert.ToBase64String(kv.Value)),
                    });
                }

                if (kind == "configmaps" && _configMaps.TryGetValue(key, out var configData))
                {
                    return Results.Json(new Dictionary<string, object?>
                    {
                        ["kind"] = "ConfigMap",
                        ["apiVersion"] = "v1",
                        ["metadata"] = new { name, @namespace = ns, uid = Guid.NewGuid().ToString(), resourceVersion = "1" },
                        ["data"] = configData,
                    });
                }
            }

            return Status(404, "NotFound", $"{kind} \"{name}\" not found", new JsonObject { ["name"] = name, ["kind"] = kind });
        });

        _app.MapPost("/api/v1/namespaces/{ns}/events", async (HttpContext context, string ns) =>
        {
            var body = await ReadObjectAsync(context);
            Events.Enqueue((ns, body));
            EventArrived?.Invoke();
            return await OnEvent(body, context.RequestAborted);
        });
    }

    private void UpdateMax(int now)
    {
        var seen = Volatile.Read(ref _maxInFlight);
        while (now > seen && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
            seen = Volatile.Read(ref _maxInFlight);
        }
    }

    /// <summary>A CA and a 127.0.0.1/localhost serving certificate it signed (the client trusts only the CA).</summary>
    private static (X509Certificate2 Ca, X509Certificate2 Serving) CreateServingChain()
    {
        // The machine's clock, not a test clock: the Kubernetes client's TLS stack checks the serving certificate
        // against real time.
        var pki = new TestPki(TimeProvider.System);
        var notBefore = pki.Now.AddMinutes(-5);
        using var ca = pki.Root("fake-kube-ca", notBefore, notBefore.AddDays(1));
        using var leaf = pki.Leaf(
            ca, "127.0.0.1", notBefore, notBefore.AddHours(12), dnsNames: ["localhost"], ipAddresses: [IPAddress.Loopback],
            extendedKeyUsages: [TestPki.ServerAuth], isCa: false);
        using var leafWithKey = leaf.CertificateWithKey();

        // Round-trip through PKCS#12 so Kestrel gets a certificate whose key is usable by the TLS stack.
        var serving = X509CertificateLoader.LoadPkcs12(leafWithKey.Export(X509ContentType.Pkcs12, "t"), "t");
        return (X509CertificateLoader.LoadCertificate(ca.Certificate.RawData), serving);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        return JsonObject.Create(doc.RootElement.Clone())!;
    }
}
