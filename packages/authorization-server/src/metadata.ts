/** Discovery documents: RFC 8414 (authorization server) and RFC 9728 (protected resource). */

/** Paths of the endpoints, relative to the issuer. */
export interface EndpointPaths {
  authorization: string;
  token: string;
  registration: string;
  revocation: string;
}

export const DEFAULT_ENDPOINT_PATHS: EndpointPaths = {
  authorization: '/authorize',
  token: '/token',
  registration: '/register',
  revocation: '/revoke',
};

/** RFC 8414 §2 metadata. */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint: string;
  revocation_endpoint: string;
  response_types_supported: ['code'];
  response_modes_supported: ['query'];
  grant_types_supported: ['authorization_code', 'refresh_token'];
  code_challenge_methods_supported: ['S256'];
  token_endpoint_auth_methods_supported: ['none'];
  revocation_endpoint_auth_methods_supported: ['none'];
  scopes_supported: string[];
  /** RFC 9207: the authorization response carries `iss`. */
  authorization_response_iss_parameter_supported: true;
  /** Client ID Metadata Documents (MCP 2025-11-25): an https URL may serve as `client_id`. */
  client_id_metadata_document_supported: boolean;
}

/** Build the RFC 8414 document for `issuer` (an origin without trailing slash). */
export function authorizationServerMetadata(
  issuer: string,
  scopesSupported: readonly string[],
  paths: EndpointPaths = DEFAULT_ENDPOINT_PATHS,
  clientIdMetadataDocumentSupported = true,
): AuthorizationServerMetadata {
  return {
    issuer,
    authorization_endpoint: `${issuer}${paths.authorization}`,
    token_endpoint: `${issuer}${paths.token}`,
    registration_endpoint: `${issuer}${paths.registration}`,
    revocation_endpoint: `${issuer}${paths.revocation}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...scopesSupported],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: clientIdMetadataDocumentSupported,
  };
}

/** RFC 9728 §2 metadata. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ['header'];
  scopes_supported: string[];
  resource_name?: string;
}

/** Build the RFC 9728 document for `resource`, served by `issuer`. */
export function protectedResourceMetadata(
  resource: string,
  issuer: string,
  scopesSupported: readonly string[],
  resourceName?: string,
): ProtectedResourceMetadata {
  return {
    resource,
    authorization_servers: [issuer],
    bearer_methods_supported: ['header'],
    scopes_supported: [...scopesSupported],
    ...(resourceName ? { resource_name: resourceName } : {}),
  };
}
