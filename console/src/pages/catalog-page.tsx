import { answer, api } from '../api/client';
import { EmptyState } from '../components/empty-state';
import { JsonView } from '../components/json-view';
import { Loading } from '../components/loading';
import { ProblemNotice } from '../components/problem-notice';
import { useLoad } from '../lib/use-load';

/** The event catalog: each type with its version, topic and JSON Schema; each topic and the types it carries. */
export function CatalogPage() {
  const loaded = useLoad(async () => {
    const [catalog, schemas] = await Promise.all([
      answer(api.GET('/v1/catalog')),
      answer(api.GET('/v1/catalog/schemas')),
    ]);
    return { catalog, schemas: schemas.schemas };
  }, []);
  const data = loaded.data;
  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Catalog</h1>
      {loaded.error && <ProblemNotice error={loaded.error} />}
      {loaded.loading && !data && <Loading what="the catalog" />}
      {data && data.catalog.events.length === 0 && (
        <EmptyState title="The catalog is empty">
          Start the node with a catalog (<code>KEEL_CATALOG=./my-catalog.ts npm start</code>) made with{' '}
          <code>defineEvent</code> and <code>defineTopic</code>.
        </EmptyState>
      )}
      {data && data.catalog.events.length > 0 && (
        <>
          <h2>Event types</h2>
          <ul class="types">
            {data.catalog.events.map((event) => (
              <li key={event.type} class="type-card">
                <strong class="mono">{event.type}</strong> <span class="badge">v{event.version}</span>
                {event.topic && (
                  <>
                    {' '}
                    → <a href={`/topics/${encodeURIComponent(event.topic)}`}>{event.topic}</a>
                  </>
                )}
                {event.description && <div class="muted">{event.description}</div>}
                <details>
                  <summary>JSON Schema</summary>
                  {data.schemas[event.type] ? (
                    <JsonView value={data.schemas[event.type]} />
                  ) : (
                    <p class="muted">No schema.</p>
                  )}
                </details>
              </li>
            ))}
          </ul>
          <h2>Topics</h2>
          <table class="table">
            <caption class="sr-only">Topics of the catalog</caption>
            <thead>
              <tr>
                <th scope="col">Topic</th>
                <th scope="col" class="num">
                  Partitions
                </th>
                <th scope="col">Event types</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {data.catalog.topics.map((topic) => (
                <tr key={topic.name}>
                  <td>
                    <a href={`/topics/${encodeURIComponent(topic.name)}`}>{topic.name}</a>
                  </td>
                  <td class="num">{topic.partitions}</td>
                  <td>{topic.events.join(', ')}</td>
                  <td>{topic.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
