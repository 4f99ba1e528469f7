import type { ApiProblem } from '../api/client';

/** What went wrong, as the node said it: title, detail and each field it names. */
export function ProblemNotice({ error }: { error: ApiProblem }) {
  const { problem } = error;
  return (
    <div class="problem" role="alert">
      <strong>
        {problem.title}
        {problem.status ? ` (${problem.status})` : ''}
      </strong>
      <p>{problem.detail}</p>
      {problem.errors && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((issue) => (
            <li key={issue.path}>
              <code>{issue.path}</code>: {issue.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
