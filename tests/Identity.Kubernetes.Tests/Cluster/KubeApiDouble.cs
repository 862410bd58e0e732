using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Identity.Kubernetes.Tests.Cluster;

/// <summary>
/// A local stand-in for a Kubernetes API server: real Kestrel over HTTPS on 127.0.0.1 with its own self-signed
/// certificate, bearer-token authentication, and the core/v1 GET endpoints for Secrets and ConfigMaps, answering
/// with the same JSON shapes (base64 Secret data, <c>Status</c> objects on errors) a real API server returns.
/// Shared with Identity.Cli.Tests as a linked source file.
/// </summary>
public sealed class KubeApiDouble : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, Dictionary<string, byte[]>> _secrets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _secretTypes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _configMaps = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];
    private readonly Lock _gate = new();

    private KubeApiDouble(WebApplication app, X509Certificate2 certificate, string token)
    {
        _app = app;
        Certificate = certificate;
        Token = token;
    }

    /// <summary>The server certificate; the kubeconfig trusts it through certificate-authority-data.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The bearer token the double accepts.</summary>
    public string Token { get; }

    public Uri BaseAddress { get; private set; } = null!;

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

    public static async Task<KubeApiDouble> StartAsync(CancellationToken cancellationToken)
    {
        var certificate = CreateServerCertificate();
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var double_ = new KubeApiDouble(app, certificate, token);
        app.Run(double_.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        double_.BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        return double_;
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
    public static string WriteKubeconfig(string path, IReadOnlyDictionary<string, KubeApiDouble> contexts, string? currentContext = null)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("apiVersion: v1").AppendLine("kind: Config");
        yaml.AppendLine($"current-context: {currentContext ?? contexts.Keys.First()}");
        yaml.AppendLine("clusters:");
        foreach (var (name, api) in contexts)
        {
            var ca = Convert.ToBase64String(Encoding.ASCII.GetBytes(api.Certificate.ExportCertificatePem()));
            yaml.AppendLine($"- name: {name}-cluster").AppendLine("  cluster:")
                .AppendLine($"    server: {api.BaseAddress.ToString().TrimEnd('/')}")
                .AppendLine($"    certificate-authority-data: {ca}");
        }

        yaml.AppendLine("users:");
        foreach (var (name, api) in contexts)
        {
            yaml.AppendLine($"- name: {name}-user").AppendLine("  user:").AppendLine($"    token: {api.Token}");
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;
        lock (_gate)
        {
            _requests.Add(path);
        }

        if (ForcedStatus is { } forced)
        {
            await WriteStatusAsync(context, forced, "Forbidden", $"forced {(int)forced}");
            return;
        }

        if (context.Request.Headers.Authorization.ToString() != $"Bearer {Token}")
        {
            await WriteStatusAsync(context, HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");
            return;
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!HttpMethods.IsGet(context.Request.Method) || parts is not ["api", "v1", "namespaces", var ns, var kind, var name])
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
            return;
        }

        object? body = null;
        lock (_gate)
        {
            var key = $"{ns}/{name}";
            if (kind == "secrets" && _secrets.TryGetValue(key, out var secretData))
            {
                body = new Dictionary<string, object?>
                {
                    ["kind"] = "Secret",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new { name, @namespace = ns, uid = Guid.NewGuid().ToString(), resourceVersion = "1" },
                    ["type"] = _secretTypes[key] ?? "Opaque",
                    ["data"] = secretData.ToDictionary(kv => kv.Key, kv => Convert.ToBase64String(kv.Value)),
                };
            }
            else if (kind == "configmaps" && _configMaps.TryGetValue(key, out var configData))
            {
                body = new Dictionary<string, object?>
                {
                    ["kind"] = "ConfigMap",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new { name, @namespace = ns, uid = Guid.NewGuid().ToString(), resourceVersion = "1" },
                    ["data"] = configData,
                };
            }
        }

        if (body is null)
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"{kind} \"{name}\" not found", new { name, kind });
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private static async Task WriteStatusAsync(HttpContext context, HttpStatusCode code, string reason, string message, object? details = null)
    {
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            kind = "Status",
            apiVersion = "v1",
            metadata = new { },
            status = "Failure",
            message,
            reason,
            details,
            code = (int)code,
        }));
    }

    private static X509Certificate2 CreateServerCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kube-apiserver-double", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
