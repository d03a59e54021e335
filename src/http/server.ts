import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerApiRoutes } from '../api/routes.js';
import { registerEngagementRoutes } from '../api/engagement-routes.js';
import type { EngagementService } from '../engine/engagement.js';
import { registerJourneyRoutes } from '../api/journey-routes.js';
import type { JourneyService } from '../engine/journeys/service.js';
import type { Clock } from '../domain/clock.js';
import { registerChannelRoutes } from '../api/channel-routes.js';
import { registerTemplateRoutes } from '../api/template-routes.js';
import { registerDeliverySettingsRoutes } from '../api/delivery-settings-routes.js';
import { registerSubscriptionRoutes } from '../api/subscription-routes.js';
import { registerSuppressionRoutes } from '../api/suppression-routes.js';
import { registerDeviceRoutes } from '../api/device-routes.js';
import { registerCouponRoutes } from '../api/coupon-routes.js';
import { registerUnsubscribeRoutes } from '../api/unsubscribe-routes.js';
import { registerPreferencePages } from '../api/preference-pages.js';
import { registerPreferenceRoutes } from '../api/preference-routes.js';
import { DoubleOptIn } from '../engine/delivery/double-opt-in.js';
import { registerTrackingRoutes } from '../api/tracking-routes.js';
import { registerCatalogRoutes } from '../api/catalog-routes.js';
import { registerLtvRoutes } from '../api/ltv-routes.js';
import { registerSurveyRoutes } from '../api/survey-routes.js';
import { registerSurveyPages } from '../api/survey-pages.js';
import { registerFeedbackRoutes } from '../api/feedback-routes.js';
import { registerReportRoutes } from '../api/report-routes.js';
import { registerAbTestRoutes } from '../api/ab-test-routes.js';
import { ReportService } from '../engine/reports.js';
import type { AbWinnerService } from '../engine/journeys/ab-winner.js';
import { SurveyService } from '../engine/surveys/service.js';
import type { LtvService } from '../engine/ltv.js';
import { registerInAppRoutes } from '../api/inapp-routes.js';
import { registerSdkRoutes } from '../api/sdk-routes.js';
import { registerPrivacyRoutes, registerSdkConsentRoute } from '../api/privacy-routes.js';
import { registerTransparencyPages } from '../api/transparency-pages.js';
import { PrivacyService } from '../engine/privacy.js';
import { registerSdkPushRoutes } from '../api/sdk-push-routes.js';
import { InAppCampaigns } from '../engine/inapp/campaigns.js';
import { InAppDelivery } from '../engine/inapp/delivery.js';
import { SdkSettingsService } from '../engine/inapp/sdk-settings.js';
import type { SecretBox } from '../channels/secret-box.js';
import type { LinkSigner } from '../channels/links.js';
import type { TemplateService } from '../engine/delivery/templates.js';
import type { ChannelService } from '../engine/delivery/channels.js';
import type { Dispatcher } from '../engine/delivery/dispatcher.js';
import { registerIngestRoutes } from '../ingest/routes.js';
import type { Store } from '../store/store.js';
import { KeyAuth } from './auth.js';
import { registerJsonBodies } from './body.js';
import { registerCors } from './cors.js';
import { registerSdkAssets } from './sdk-assets.js';
import { registerDashboard } from './dashboard.js';
import { errorHandler } from './errors.js';
import { registerAccessHook } from './access.js';
import { KeyRateLimiter, type KeyRateLimit } from './key-rate-limit.js';
import { registerSecurityHeaders } from './security-headers.js';
import { AuditLog, registerAuditHooks } from './audit.js';
import { SessionService } from '../access/sessions.js';
import { registerSessionRoutes } from '../api/session-routes.js';
import { registerUserRoutes } from '../api/user-routes.js';
import { registerKeyRoutes } from '../api/key-routes.js';
import { registerAuditRoutes } from '../api/audit-routes.js';

export interface ServerDeps {
  store: Store;
  clock: Clock;
  logger: FastifyBaseLogger;
  engagement: EngagementService;
  ltv: LtvService;
  journeys: JourneyService;
  /** sends A/B broadcasts' rest the winner (also run by a poll loop in app.ts) */
  winners: AbWinnerService;
  channels: ChannelService;
  dispatcher: Dispatcher;
  templates: TemplateService;
  links: LinkSigner;
  /** seals workspace secrets at rest (the SDK's identity-verification secret) */
  box: SecretBox;
  /** called when ingestion made or woke journey entries (the runner looks at once) */
  onJourneyWork?: () => void;
  /** log one line per request (off by default: at 50,000 events/s that is most of the log). */
  logRequests?: boolean;
  /** take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy?: boolean;
  /** mark the session cookie Secure: set when the configured public URL is https */
  secureCookies?: boolean;
  /** per-key limit on /api/v1 requests; absent or null: none */
  keyRateLimit?: KeyRateLimit | null;
}

/**
 * The HTTP surface: Segment-compatible ingestion under /v1 (open to browsers on any origin), the
 * browser SDK under /sdk, the admin API under /api/v1, /healthz, and the dashboard at / (web/).
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: !deps.logRequests }),
    trustProxy: deps.trustProxy ?? false,
    // Segment SDKs retry on 5xx and network errors, so a slow client must not hold a socket forever.
    requestTimeout: 30_000,
    // Signed link tokens are path parameters: a tracked link carries its whole destination address.
    routerOptions: { maxParamLength: 4096 },
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  // Access and audit hooks come before every route, so they apply to all of them.
  const auth = new KeyAuth(deps.store, deps.clock, (err) =>
    deps.logger.warn({ err }, 'key last-used write failed'),
  );
  const sessions = new SessionService(deps.store, deps.clock);
  const auditLog = new AuditLog(deps.store, deps.logger);
  registerSecurityHeaders(app);
  registerAccessHook(app, {
    auth,
    sessions,
    limiter: deps.keyRateLimit ? new KeyRateLimiter(deps.keyRateLimit, deps.clock) : null,
  });
  registerAuditHooks(app, { log: auditLog, clock: deps.clock });
  registerJsonBodies(app);
  registerCors(app);
  registerSdkAssets(app);
  registerDashboard(app);
  registerSessionRoutes(app, {
    store: deps.store,
    clock: deps.clock,
    sessions,
    secureCookies: deps.secureCookies ?? false,
    audit: auditLog,
  });
  registerUserRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerKeyRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerAuditRoutes(app, { store: deps.store, auth, log: auditLog });
  registerIngestRoutes(app, {
    store: deps.store,
    auth,
    clock: deps.clock,
    onJourneyWork: deps.onJourneyWork,
  });
  registerApiRoutes(app, { store: deps.store, auth });
  registerEngagementRoutes(app, { store: deps.store, auth, engagement: deps.engagement, clock: deps.clock });
  registerLtvRoutes(app, {
    store: deps.store,
    auth,
    ltv: deps.ltv,
  });
  registerJourneyRoutes(app, { store: deps.store, auth, journeys: deps.journeys, clock: deps.clock });
  registerTemplateRoutes(app, { auth, templates: deps.templates, dispatcher: deps.dispatcher });
  registerDeliverySettingsRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerSubscriptionRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerSuppressionRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerDeviceRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerCouponRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerUnsubscribeRoutes(app, { store: deps.store, clock: deps.clock, links: deps.links });
  registerTrackingRoutes(app, { store: deps.store, clock: deps.clock, links: deps.links });
  registerPreferencePages(app, { store: deps.store, clock: deps.clock, links: deps.links });
  registerPreferenceRoutes(app, {
    store: deps.store,
    auth,
    clock: deps.clock,
    doubleOptIn: new DoubleOptIn({ ...deps }),
  });
  registerCatalogRoutes(app, { store: deps.store, auth, clock: deps.clock });
  const delivery = new InAppDelivery(deps.store, deps.clock);
  const settings = new SdkSettingsService(deps.store, deps.clock, deps.box);
  const campaigns = new InAppCampaigns(deps.store, deps.clock, (ws) => delivery.invalidate(ws));
  registerInAppRoutes(app, { store: deps.store, auth, campaigns, settings });
  const privacy = new PrivacyService(deps.store, deps.clock);
  const sdk = {
    privacy,
    store: deps.store,
    auth,
    clock: deps.clock,
    delivery,
    settings,
    onJourneyWork: deps.onJourneyWork,
  };
  registerSdkRoutes(app, { ...sdk, channels: deps.channels });
  registerSdkPushRoutes(app, sdk);
  registerSdkConsentRoute(app, { ...sdk, privacy });
  registerPrivacyRoutes(app, {
    store: deps.store,
    auth,
    clock: deps.clock,
    privacy,
    engagement: deps.engagement,
  });
  registerTransparencyPages(app, { store: deps.store, clock: deps.clock, links: deps.links, privacy });
  const surveys = new SurveyService(deps.store, deps.clock, deps.onJourneyWork);
  registerSurveyRoutes(app, { store: deps.store, auth, clock: deps.clock, surveys });
  registerSurveyPages(app, { links: deps.links, surveys });
  registerFeedbackRoutes(app, { store: deps.store, auth, clock: deps.clock });
  registerReportRoutes(app, {
    store: deps.store,
    auth,
    clock: deps.clock,
    reports: new ReportService(deps.store, deps.clock),
  });
  registerAbTestRoutes(app, { auth, winners: deps.winners });
  registerChannelRoutes(app, {
    store: deps.store,
    auth,
    channels: deps.channels,
    dispatcher: deps.dispatcher,
  });
  app.get('/healthz', async () => {
    await deps.store.countWorkspaces();
    return { ok: true };
  });
  return app;
}
