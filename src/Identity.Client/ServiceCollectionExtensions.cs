using Identity.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the identity client.</summary>
public static class IdentityClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IdentityClient"/> (also as <see cref="IWorkloadCredentialsProvider"/>) with validated options
    /// (ValidateOnStart). Start it from a hosted service (its StartAsync/StopAsync match IHostedService).
    /// </summary>
    public static OptionsBuilder<IdentityClientOptions> AddIdentityClient(this IServiceCollection services, Action<IdentityClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IdentityClientOptions>, IdentityClientOptionsValidator>());
        services.TryAddSingleton<IdentityClient>();
        services.TryAddSingleton<IWorkloadCredentialsProvider>(sp => sp.GetRequiredService<IdentityClient>());
        return services.AddOptions<IdentityClientOptions>().Configure(configure).ValidateOnStart();
    }
}
