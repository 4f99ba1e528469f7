import { LocationProvider, Route, Router } from 'preact-iso';
import { Layout } from './components/layout';
import { AuditPage } from './pages/audit-page';
import { CatalogPage } from './pages/catalog-page';
import { DeadLetterGroupsPage } from './pages/dead-letter-groups-page';
import { DeadLetterPage } from './pages/dead-letter-page';
import { DeadLettersPage } from './pages/dead-letters-page';
import { GroupPage } from './pages/group-page';
import { GroupsPage } from './pages/groups-page';
import { JobsPage } from './pages/jobs-page';
import { MessagePage } from './pages/message-page';
import { MessagesPage } from './pages/messages-page';
import { NotFoundPage } from './pages/not-found-page';
import { OverviewPage } from './pages/overview-page';
import { QueryPage } from './pages/query-page';
import { StorePage } from './pages/store-page';
import { StreamPage } from './pages/stream-page';
import { SubscriptionPage } from './pages/subscription-page';
import { SubscriptionsPage } from './pages/subscriptions-page';
import { TopicsPage } from './pages/topics-page';
import { TracePage } from './pages/trace-page';
import { WorkflowPage } from './pages/workflow-page';
import { WorkflowsPage } from './pages/workflows-page';

/** The console: one route per page; every view is in its URL, so any page can be shared or reloaded. */
export function App() {
  return (
    <LocationProvider>
      <Layout>
        <Router>
          <Route path="/" component={OverviewPage} />
          <Route path="/topics" component={TopicsPage} />
          <Route path="/topics/:topic" component={MessagesPage} />
          <Route path="/topics/:topic/messages/:partition/:offset" component={MessagePage} />
          <Route path="/groups" component={GroupsPage} />
          <Route path="/groups/:group" component={GroupPage} />
          <Route path="/dead-letters" component={DeadLetterGroupsPage} />
          <Route path="/dead-letters/:group" component={DeadLettersPage} />
          <Route path="/dead-letters/:group/:id" component={DeadLetterPage} />
          <Route path="/catalog" component={CatalogPage} />
          <Route path="/store" component={StorePage} />
          <Route path="/store/streams/:streamId" component={StreamPage} />
          <Route path="/workflows" component={WorkflowsPage} />
          <Route path="/workflows/:instanceId" component={WorkflowPage} />
          <Route path="/subscriptions" component={SubscriptionsPage} />
          <Route path="/subscriptions/:name" component={SubscriptionPage} />
          <Route path="/trace" component={TracePage} />
          <Route path="/query" component={QueryPage} />
          <Route path="/jobs" component={JobsPage} />
          <Route path="/audit" component={AuditPage} />
          <Route default component={NotFoundPage} />
        </Router>
      </Layout>
    </LocationProvider>
  );
}
