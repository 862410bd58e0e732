using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Identity.Pki.Time;
using Identity.Server.Events;
using Identity.Server.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Identity.Server.Issuance;

/// <summary>Outcome of one reload attempt.</summary>
public enum IssuerReloadResult
{
    /// <summary>The files hold the content already served (or already rejected): nothing changed.</summary>
    Unchanged,

    /// <summary>A new issuer validated and is now served.</summary>
    Updated,

    /// <summary>The files changed but did not validate: the previous issuer (if any) is still served.</summary>
    Rejected,
}

/// <summary>
/// Holds the served <see cref="IssuerSnapshot"/> and replaces it atomically. Reloads are triggered by the
/// Kubernetes <c>..data</c> symlink swap (a FileSystemWatcher on the issuer and anchors directories) and by a
/// periodic re-read on <see cref="TimeProvider"/>, so a missed file event cannot leave a stale issuer.
/// </summary>
internal sealed class IssuerStore : IHostedService, IDisposable
{
    private readonly IdentityServerOptions _options;
    private readonly TimeProvider _time;
    private readonly IIssuerEventSink _events;
    private readonly IdentityMetrics _metrics;
    private readonly ILogger<IssuerStore> _logger;
    private readonly Lock _reloadLock = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private IssuerSnapshot? _current;
    private string? _lastRejectedHash;
    private ITimer? _timer;
    private bool _started;
    private int _mountedDiffers;

    public IssuerStore(IOptions<IdentityServerOptions> options, TimeProvider time, IIssuerEventSink events,
        IdentityMetrics metrics, ILogger<IssuerStore> logger)
    {
        _options = options.Value;
        _time = time;
        _events = events;
        _metrics = metrics;
        _logger = logger;
        metrics.Meter.CreateObservableGauge(IdentityMetrics.IssuerCertTtlSeconds, ObserveIssuerTtl,
            description: "The remaining seconds until the issuer certificate expires");
        metrics.Meter.CreateObservableGauge(IdentityMetrics.TrustAnchorTtlSeconds, ObserveAnchorTtl,
            description: "The remaining seconds until the earliest-expiring trust anchor expires");
        metrics.Meter.CreateObservableGauge(IdentityMetrics.TrustAnchorsTtlSeconds, ObserveEachAnchorTtl,
            description: "The remaining seconds until each trust anchor expires");
        metrics.Meter.CreateObservableGauge(IdentityMetrics.IssuerValid, ObserveIssuerValid,
            description: "1 while a valid issuer is served, else 0");
        metrics.Meter.CreateObservableGauge(IdentityMetrics.IssuerMountedDiffers, () => Volatile.Read(ref _mountedDiffers),
            description: "1 while the mounted issuer files hold content other than the served issuer, else 0");
    }

    /// <summary>Raised after a new snapshot is served (e.g. to re-issue the TLS serving certificate).</summary>
    public event Action<IssuerSnapshot>? Swapped;

    /// <summary>Raised after every reload attempt, including periodic ones with unchanged content.</summary>
    public event Action? Ticked;

    /// <summary>The served snapshot, or null before the first valid issuer.</summary>
    public IssuerSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>Whether a valid issuer is served now: what <c>/ready</c>, the gRPC health check and
    /// <see cref="IdentityMetrics.IssuerValid"/> all report.</summary>
    public bool ServesValidIssuer => Current is { } snapshot && IssuerLoader.CheckValidity(snapshot, _time.GetUtcNow()) is null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The exporter listens by the time the host starts (the scraping endpoint resolves it when the app is built).
        _metrics.StartSeries();
        Reload();
        _started = true;
        if (_options.WatchFiles)
        {
            Watch(_options.IssuerDirectory);
            var anchorsDirectory = Path.GetDirectoryName(Path.GetFullPath(_options.TrustAnchorsFile));
            if (anchorsDirectory is not null && anchorsDirectory != Path.GetFullPath(_options.IssuerDirectory))
            {
                Watch(anchorsDirectory);
            }
        }

        _timer = _time.CreateTimer(_ => SafeReload(), null, _options.ReloadInterval, _options.ReloadInterval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        lock (_watchers)
        {
            foreach (var w in _watchers)
            {
                w.Dispose();
            }

            _watchers.Clear();
        }

        return Task.CompletedTask;
    }

    /// <summary>Re-reads the issuer and anchors now; the deterministic path behind the watcher and the timer.</summary>
    public IssuerReloadResult Reload()
    {
        IssuerReloadResult result;
        IssuerSnapshot? swapped = null;
        lock (_reloadLock)
        {
            result = ReloadLocked(out swapped, out var differs);
            Volatile.Write(ref _mountedDiffers, differs ? 1 : 0);
        }

        Log.ReloadOutcome(_logger, result.ToString());
        if (swapped is not null)
        {
            Swapped?.Invoke(swapped);
        }

        Ticked?.Invoke();
        return result;
    }

    /// <summary>
    /// One read of the files. <paramref name="differs"/> says whether they now hold something other than the served
    /// issuer: unreadable or rejected content (also when it was rejected before and is still there).
    /// </summary>
    private IssuerReloadResult ReloadLocked(out IssuerSnapshot? swapped, out bool differs)
    {
        swapped = null;
        differs = true;
        var previous = _current;
        IssuerFiles files;
        string hash;
        try
        {
            files = IssuerLoader.Read(_options);
            hash = files.ContentHash();
        }
        catch (IssuerLoadException e)
        {
            return Reject(e.Message, e.Message, previous);
        }

        if (previous?.ContentHash == hash)
        {
            differs = false;
            return IssuerReloadResult.Unchanged;
        }

        if (_lastRejectedHash == hash)
        {
            return IssuerReloadResult.Unchanged;
        }

        IssuerSnapshot next;
        try
        {
            next = IssuerLoader.Load(files, _options, _time.GetUtcNow());
        }
        catch (IssuerLoadException e)
        {
            return Reject(e.Message, hash, previous);
        }

        Volatile.Write(ref _current, next);
        differs = false;
        _lastRejectedHash = null;
        _metrics.RecordIssuerReload(success: true);
        var now = _time.GetUtcNow();
        var invalidAfter = new DateTimeOffset(next.Issuer.NotAfter.ToUniversalTime());
        Log.IssuerLoaded(_logger, next.Issuer.Subject, new Rfc3339Time(invalidAfter), (long)(invalidAfter - now).TotalSeconds, next.Anchors.Count);
        if (_started)
        {
            _events.IssuerUpdated();
        }

        swapped = next;
        return IssuerReloadResult.Updated;
    }

    private IssuerReloadResult Reject(string reason, string rejectionKey, IssuerSnapshot? previous)
    {
        // The same broken content is reported once, not on every periodic re-read.
        if (_lastRejectedHash == rejectionKey)
        {
            return IssuerReloadResult.Unchanged;
        }

        _lastRejectedHash = rejectionKey;
        _metrics.RecordIssuerReload(success: false);
        if (previous is null)
        {
            Log.IssuerNotLoaded(_logger, reason);
        }
        else
        {
            Log.IssuerUpdateSkipped(_logger, reason);
        }

        if (_started || previous is not null)
        {
            _events.IssuerUpdateSkipped(reason);
        }

        return IssuerReloadResult.Rejected;
    }

    private void SafeReload()
    {
        try
        {
            Reload();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A reload must never take the process down; the next trigger tries again.
            Log.ReloadCrashed(_logger, e);
        }
    }

    private void Watch(string directory)
    {
        try
        {
            var watcher = new FileSystemWatcher(directory)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler onChange = (_, _) => ThreadPool.QueueUserWorkItem(_ => SafeReload());
            watcher.Created += onChange;
            watcher.Changed += onChange;
            watcher.Renamed += (_, _) => ThreadPool.QueueUserWorkItem(_ => SafeReload());
            watcher.Error += (_, e) =>
            {
                // Unlike Linkerd, an error does not end watching: recreate the watcher and re-read at once.
                Log.WatcherError(_logger, e.GetException().Message);
                lock (_watchers)
                {
                    _watchers.Remove(watcher);
                }

                watcher.Dispose();
                Watch(directory);
                SafeReload();
            };
            watcher.EnableRaisingEvents = true;
            lock (_watchers)
            {
                _watchers.Add(watcher);
            }
        }
        catch (Exception e) when (e is ArgumentException or IOException or PlatformNotSupportedException)
        {
            Log.WatcherUnavailable(_logger, directory, e.Message);
        }
    }

    private double ObserveIssuerTtl()
    {
        var snapshot = Current;
        return snapshot is null ? 0 : Math.Max(0, (new DateTimeOffset(snapshot.Issuer.NotAfter.ToUniversalTime()) - _time.GetUtcNow()).TotalSeconds);
    }

    private double ObserveAnchorTtl()
    {
        var snapshot = Current;
        return snapshot is null ? 0 : Math.Max(0, (snapshot.AnchorsNotAfter - _time.GetUtcNow()).TotalSeconds);
    }

    private IEnumerable<Measurement<double>> ObserveEachAnchorTtl()
    {
        if (Current is not { } snapshot)
        {
            yield break;
        }

        var now = _time.GetUtcNow();
        foreach (var anchor in snapshot.Anchors)
        {
            var ttl = Math.Max(0, (new DateTimeOffset(anchor.NotAfter.ToUniversalTime()) - now).TotalSeconds);
            var fingerprint = Convert.ToHexStringLower(anchor.GetCertHash(HashAlgorithmName.SHA256))[..16];
            yield return new Measurement<double>(ttl,
                new KeyValuePair<string, object?>(IdentityMetrics.SubjectTag, anchor.Subject),
                new KeyValuePair<string, object?>(IdentityMetrics.FingerprintTag, fingerprint));
        }
    }

    private int ObserveIssuerValid() => ServesValidIssuer ? 1 : 0;

    public void Dispose()
    {
        _timer?.Dispose();
        lock (_watchers)
        {
            foreach (var w in _watchers)
            {
                w.Dispose();
            }

            _watchers.Clear();
        }
    }
}
