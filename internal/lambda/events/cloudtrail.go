package events

import (
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// detail is the part of a CloudTrail record that ProvisionProduct needs.
type detail struct {
	EventName    string    `json:"eventName"`
	EventTime    time.Time `json:"eventTime"`
	AWSRegion    string    `json:"awsRegion"`
	ErrorCode    string    `json:"errorCode"`
	UserIdentity struct {
		Type           string `json:"type"`
		PrincipalID    string `json:"principalId"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		SessionContext struct {
			SourceIdentity string `json:"sourceIdentity"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters struct {
		ProductID              string     `json:"productId"`
		ProvisioningArtifactID string     `json:"provisioningArtifactId"`
		PathID                 string     `json:"pathId"`
		ProvisionedProductName string     `json:"provisionedProductName"`
		ProvisioningParameters []keyValue `json:"provisioningParameters"`
		Tags                   []keyValue `json:"tags"`
	} `json:"requestParameters"`
	ResponseElements struct {
		RecordDetail struct {
			RecordID             string `json:"recordId"`
			Status               string `json:"status"`
			ProvisionedProductID string `json:"provisionedProductId"`
		} `json:"recordDetail"`
	} `json:"responseElements"`
	RecipientAccountID string `json:"recipientAccountId"`
}

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func toMap(kvs []keyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func (d *detail) provisionProduct(ev lambdaevents.EventBridgeEvent) ProvisionProduct {
	rp, rd, ui := d.RequestParameters, d.ResponseElements.RecordDetail, d.UserIdentity
	pp := ProvisionProduct{
		EventID: ev.ID, Time: d.EventTime, Account: ev.AccountID, Region: ev.Region,
		Caller: Caller{
			Type: ui.Type, PrincipalID: ui.PrincipalID, ARN: ui.ARN, AccountID: ui.AccountID,
			SourceIdentity: ui.SessionContext.SourceIdentity,
		},
		ProductID: rp.ProductID, ProvisioningArtifactID: rp.ProvisioningArtifactID, PathID: rp.PathID,
		ProvisionedProductName: rp.ProvisionedProductName,
		ProvisionedProductID:   rd.ProvisionedProductID, RecordID: rd.RecordID, Status: rd.Status,
		Parameters: toMap(rp.ProvisioningParameters), Tags: toMap(rp.Tags),
	}
	if pp.Time.IsZero() {
		pp.Time = ev.Time
	}
	if pp.Region == "" {
		pp.Region = d.AWSRegion
	}
	if pp.Account == "" {
		pp.Account = d.RecipientAccountID
	}
	return pp
}
