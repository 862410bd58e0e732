using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Identity.Server.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Kubernetes;

/// <summary>An immutable set of signing keys as fetched at one moment.</summary>
/// <param name="Keys">The usable signing keys, decoded and validated.</param>
/// <param name="KeyIds">Their <c>kid</c>s, for the unknown-kid check.</param>
/// <param name="FetchedAt">When they were fetched.</param>
public sealed record JwksKeySnapshot(IReadOnlyList<JwtSigningKey> Keys, FrozenSet<string> KeyIds, DateTimeOffset FetchedAt);

/// <summary>
/// Loads and refreshes JWKS signing keys from a file, a JWKS URL or OIDC discovery. Keys are swapped as whole
/// snapshots; a failed refresh keeps the previous keys. Refreshes happen when the snapshot is older than
/// <see cref="TokenValidationOptions.JwksRefreshInterval"/> and, at most once per
/// <see cref="TokenValidationOptions.JwksMinRefreshInterval"/>, when a token names an unknown <c>kid</c>.
/// </summary>
public sealed class JwksKeyProvider : IDisposable
{
    private readonly JwksSource _source;
    private readonly HttpClient? _http;
    private readonly bool _ownsHttp;
    private readonly string? _bearerTokenFile;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeSpan _minRefreshInterval;
    private readonly TimeSpan _fetchTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Counter<long> _refreshes;
    private readonly Lock _refreshLock = new();
    private JwksKeySnapshot? _snapshot;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;
    private Task<JwksKeySnapshot>? _refreshing;
    private TokenValidationUnavailableException? _lastFailure;

    /// <summary>While no keys were ever loaded, how long a failed load is reported again before retrying, so a
    /// herd of proxies retrying Certify does not turn into back-to-back fetches of an unreachable URL.</summary>
    public static readonly TimeSpan InitialLoadRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Creates a provider for <paramref name="source"/>. URL sources use <paramref name="httpClient"/>, or one
    /// built from <see cref="TokenValidationOptions.JwksCaFile"/> when it is null.
    /// </summary>
    public JwksKeyProvider(
        JwksSource source,
        TokenValidationOptions options,
        HttpClient? httpClient,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<JwksKeyProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(logger);

        _source = source;
        if (source.Uri is not null)
        {
            _ownsHttp = httpClient is null;
            _http = httpClient ?? CreateHttpClient(options.JwksCaFile);
        }

        _bearerTokenFile = options.JwksBearerTokenFile;
        _refreshInterval = options.JwksRefreshInterval;
        _minRefreshInterval = options.JwksMinRefreshInterval;
        _fetchTimeout = options.JwksFetchTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
        _refreshes = meterFactory.Create(KubernetesMetrics.MeterName).CreateCounter<long>(KubernetesMetrics.JwksRefreshes, description: "JWKS loads by result");
    }

    /// <summary>The current keys, loading them first if needed and refreshing them when stale.</summary>
    /// <exception cref="TokenValidationUnavailableException">No keys could ever be loaded.</exception>
    public async ValueTask<JwksKeySnapshot> GetKeysAsync(CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null)
        {
            var now = _timeProvider.GetUtcNow();
            if (now - snapshot.FetchedAt < _refreshInterval)
            {
                return snapshot;
            }

            lock (_refreshLock)
            {
                // Stale because the last refresh failed: keep the old keys without refetching on every token.
                if (_refreshing is null && now - _lastAttempt < _minRefreshInterval)
                {
                    return snapshot;
                }
            }
        }

        return await RefreshAsync(snapshot, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Called when a token names <paramref name="keyId"/> that the current keys lack: refetches unless the last
    /// fetch was too recent. Returns the (possibly unchanged) keys.
    /// </summary>
    public async ValueTask<JwksKeySnapshot> RefreshForUnknownKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        lock (_refreshLock)
        {
            if (snapshot is not null && _refreshing is null && _timeProvider.GetUtcNow() - _lastAttempt < _minRefreshInterval)
            {
                return snapshot;
            }
        }

        Log.JwksUnknownKid(_logger, keyId.Length > 64 ? keyId[..64] : keyId, _source.ToString());
        return await RefreshAsync(snapshot, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http?.Dispose();
        }
    }

    private async Task<JwksKeySnapshot> RefreshAsync(JwksKeySnapshot? previous, CancellationToken cancellationToken)
    {
        Task<JwksKeySnapshot> refresh;
        lock (_refreshLock)
        {
            if (previous is null && _refreshing is null && _lastFailure is { } failure
                && _timeProvider.GetUtcNow() - _lastAttempt < InitialLoadRetryDelay)
            {
                throw failure;
            }

            // Single flight: everyone who finds the keys stale waits on the same fetch.
            refresh = _refreshing ??= FetchAndSwapAsync(previous);
        }

        return await refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<JwksKeySnapshot> FetchAndSwapAsync(JwksKeySnapshot? previous)
    {
        await Task.Yield();
        try
        {
            var keys = await LoadAsync().ConfigureAwait(false);
            var snapshot = new JwksKeySnapshot(
                keys,
                keys.Select(k => k.KeyId).OfType<string>().ToFrozenSet(StringComparer.Ordinal),
                _timeProvider.GetUtcNow());
            Volatile.Write(ref _snapshot, snapshot);
            _lastFailure = null;
            _refreshes.Add(1, new KeyValuePair<string, object?>("result", "ok"));
            Log.JwksLoaded(_logger, keys.Count, _source.ToString());
            return snapshot;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException or JsonException
            or ArgumentException or InvalidOperationException or OperationCanceledException)
        {
            _refreshes.Add(1, new KeyValuePair<string, object?>("result", "error"));
            var reason = e is OperationCanceledException ? $"timed out after {_fetchTimeout.TotalSeconds:0.###}s" : e.Message;
            Log.JwksLoadFailed(_logger, _source.ToString(), reason);
            var current = Volatile.Read(ref _snapshot) ?? previous;
            if (current is not null)
            {
                // Keep serving with the keys we have; tokens signed by them remain verifiable during an outage.
                return current;
            }

            var failure = new TokenValidationUnavailableException($"could not load JWKS from {_source}: {reason}", e);
            lock (_refreshLock)
            {
                _lastFailure = failure;
            }

            throw failure;
        }
        finally
        {
            lock (_refreshLock)
            {
                _lastAttempt = _timeProvider.GetUtcNow();
                _refreshing = null;
            }
        }
    }

    private async Task<IReadOnlyList<JwtSigningKey>> LoadAsync()
    {
        string json;
        if (_source.FilePath is { } path)
        {
            json = await File.ReadAllTextAsync(path).ConfigureAwait(false);
        }
        else
        {
            using var timeout = new CancellationTokenSource(_fetchTimeout, _timeProvider);
            var jwksUri = _source.Uri!;
            if (_source.IsDiscovery)
            {
                using var discovery = JsonDocument.Parse(await GetAsync(jwksUri, timeout.Token).ConfigureAwait(false));
                jwksUri = ReadJwksUri(discovery, jwksUri);
            }

            json = await GetAsync(jwksUri, timeout.Token).ConfigureAwait(false);
        }

        var keys = new JsonWebKeySet(json).GetSigningKeys().Select(JwtSigningKey.From).OfType<JwtSigningKey>().ToList();
        return keys.Count > 0
            ? keys
            : throw new InvalidOperationException("the key set has no usable RSA or EC signing keys (RS256, or ES256 with P-256)");
    }

    private static Uri ReadJwksUri(JsonDocument discovery, Uri discoveryUri)
    {
        if (discovery.RootElement.ValueKind != JsonValueKind.Object
            || !discovery.RootElement.TryGetProperty("jwks_uri", out var value)
            || value.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(value.GetString(), UriKind.Absolute, out var jwksUri))
        {
            throw new InvalidOperationException($"discovery document at {discoveryUri} has no valid jwks_uri");
        }

        if (jwksUri.Scheme != Uri.UriSchemeHttps && !(jwksUri.Scheme == Uri.UriSchemeHttp && jwksUri.IsLoopback))
        {
            throw new InvalidOperationException($"discovery document at {discoveryUri} names a non-https jwks_uri {jwksUri}");
        }

        return jwksUri;
    }

    private async Task<string> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("application/json");
        if (_bearerTokenFile is { Length: > 0 } tokenFile)
        {
            // Re-read every time: projected tokens are rotated on disk by the kubelet.
            var bearer = (await File.ReadAllTextAsync(tokenFile, cancellationToken).ConfigureAwait(false)).Trim();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await _http!.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {uri} returned HTTP {(int)response.StatusCode} {response.StatusCode}", null, response.StatusCode);
        }

        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    private static HttpClient CreateHttpClient(string? caFile)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (caFile is { Length: > 0 })
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                TrustedByCustomRoots(certificate, errors, roots);
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    // Accept what the system trusts, or a chain ending in one of the configured roots with a matching name.
    private static bool TrustedByCustomRoots(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
