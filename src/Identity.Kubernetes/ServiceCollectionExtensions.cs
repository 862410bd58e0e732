using Identity.Server.Events;
using Identity.Server.Tokens;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using System.Diagnostics.Metrics;

namespace Identity.Kubernetes;

/// <summary>Registers Identity.Kubernetes' implementations of the server's seams.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITokenValidator"/>: <see cref="KubernetesTokenReviewValidator"/> or
    /// <see cref="JwksTokenValidator"/> per <see cref="TokenValidationOptions.Mode"/>, wrapped in
    /// <see cref="CachingTokenValidator"/> unless <see cref="TokenValidationOptions.CacheTtl"/> is zero. Options are
    /// validated when the host starts; in kubernetes mode the start also runs the RBAC self-check
    /// (<see cref="KubernetesAccessCheck"/>).
    /// </summary>
    public static IServiceCollection AddIdentityTokenValidation(this IServiceCollection services, Action<TokenValidationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<TokenValidationOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenValidationOptions>, TokenValidationOptionsValidator>());
        AddCommon(services);

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TokenValidationOptions>>().Value;
            return new TokenReviewApiClient(KubernetesClientFactory.Create(options.Kubeconfig, options.Qps, options.Burst));
        });
        services.TryAddSingleton(sp => new KubernetesTokenReviewValidator(
            sp.GetRequiredService<TokenReviewApiClient>().Client,
            sp.GetRequiredService<IOptions<TokenValidationOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<ILogger<KubernetesTokenReviewValidator>>()));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TokenValidationOptions>>().Value;
            return new JwksKeyProvider(
                JwksSource.Parse(options.Jwks, options.TokenIssuer),
                options,
                httpClient: null,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IMeterFactory>(),
                sp.GetRequiredService<ILogger<JwksKeyProvider>>());
        });
        services.TryAddSingleton(sp => new JwksTokenValidator(
            sp.GetRequiredService<IOptions<TokenValidationOptions>>().Value,
            sp.GetRequiredService<JwksKeyProvider>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<ILogger<JwksTokenValidator>>()));

        services.RemoveAll<ITokenValidator>();
        services.AddSingleton<ITokenValidator>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TokenValidationOptions>>().Value;
            ITokenValidator inner = options.Mode == TokenValidationMode.Jwks
                ? sp.GetRequiredService<JwksTokenValidator>()
                : sp.GetRequiredService<KubernetesTokenReviewValidator>();
            return options.CacheTtl == TimeSpan.Zero
                ? inner
                : new CachingTokenValidator(inner, options, sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<ILogger<CachingTokenValidator>>());
        });

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenReviewAccessCheckService>());
        return services;
    }

    /// <summary>
    /// Registers <see cref="KubernetesEventSink"/> as the <see cref="IIssuerEventSink"/>, replacing any earlier
    /// registration (call it after the server's own registrations). Options are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddKubernetesEvents(this IServiceCollection services, Action<KubernetesEventOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<KubernetesEventOptions>().Configure(configure ?? (_ => { })).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KubernetesEventOptions>, KubernetesEventOptionsValidator>());
        AddCommon(services);

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<KubernetesEventOptions>>().Value;
            return new EventApiClient(KubernetesClientFactory.Create(options.Kubeconfig, options.Qps, options.Burst));
        });
        services.TryAddSingleton(sp => new KubernetesEventSink(
            sp.GetRequiredService<EventApiClient>().Client,
            sp.GetRequiredService<IOptions<KubernetesEventOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IMeterFactory>(),
            sp.GetRequiredService<ILogger<KubernetesEventSink>>()));
        services.RemoveAll<IIssuerEventSink>();
        services.AddSingleton<IIssuerEventSink>(sp => sp.GetRequiredService<KubernetesEventSink>());
        return services;
    }

    private static void AddCommon(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddLogging();
        // Wherever the host exports metrics (the server's /metrics), export this meter beside the server's own, so
        // one scrape shows review latency and cache hits next to Certify; without an OpenTelemetry MeterProvider in
        // the host this only stores a callback (adding the same meter name twice is harmless).
        services.ConfigureOpenTelemetryMeterProvider(m => m.AddMeter(KubernetesMetrics.MeterName));
    }
}
