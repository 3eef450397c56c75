/** A repository as sessions are scoped by it: its identity (docs/repository-identity.md), and its main root here (for rows of before v4). */
export interface RepoKey {
  id: string;
  root: string;
}
