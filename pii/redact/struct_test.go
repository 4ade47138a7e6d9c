package redact_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/detect"
	"github.com/dataward/dataward/pii/redact"
)

type Address struct {
	Street string
	City   string
}

type Customer struct {
	ID       string
	Name     string  `pii:"name"`
	Email    string  `pii:"email,category=user.contact.email"`
	Mobile   *string `pii:"mobile,category=user.contact.phone_number"`
	Card     []byte  `pii:"card"`
	Password string
	APIKey   pii.Secret `json:"api_key"`
	Notes    string
	Home     *Address
	Tags     []string
	Extra    map[string]string
	Any      any
	Visits   int
	Since    time.Time
	private  string
}

func newCustomer() *Customer {
	mobile := phone
	return &Customer{
		ID:       "cust-42",
		Name:     "Jane Doe",
		Email:    email,
		Mobile:   &mobile,
		Card:     []byte(card),
		Password: "hunter2",
		APIKey:   "sk_live_51HxYzAbCdEfGhIjKl",
		Notes:    "called from " + phone + ", asked to use " + email,
		Home:     &Address{Street: "12 Long Street", City: "Cape Town"},
		Tags:     []string{"vip", "ip " + ip},
		Extra:    map[string]string{"referrer": email, "session_token": "abc", "plan": "gold"},
		Any:      Address{Street: "mail " + email},
		Visits:   3,
		Since:    time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
		private:  email,
	}
}

func TestStruct(t *testing.T) {
	r := newRedactor(t, &redact.Options{
		Strategies: map[detect.Type]redact.Strategy{detect.Card: redact.Mask, "name": redact.Mask},
	})
	c := newCustomer()
	oldMobile, oldCard := c.Mobile, c.Card
	require.NoError(t, r.Struct(c))

	assert.Equal(t, "cust-42", c.ID, "untagged clean fields stay")
	assert.Equal(t, "J***", c.Name, "a tagged field of a type of its own, masked")
	assert.Equal(t, "[EMAIL]", c.Email, "a tagged field is replaced whole")
	assert.Equal(t, "[PHONE]", *c.Mobile, "the data category gives the type")
	assert.Equal(t, phone, *oldMobile, "a *string field gets a new pointer")
	assert.Equal(t, "**** **** **** 1111", string(c.Card))
	assert.Equal(t, card, string(oldCard), "a []byte field gets a new slice")
	assert.Equal(t, "[REDACTED]", c.Password, "a field named like a secret")
	assert.Equal(t, pii.Secret("[REDACTED]"), c.APIKey, "a field whose json name names a secret")
	assert.Equal(t, "called from [PHONE], asked to use [EMAIL]", c.Notes, "untagged fields are scanned")
	assert.Equal(t, &Address{Street: "12 Long Street", City: "Cape Town"}, c.Home)
	assert.Equal(t, []string{"vip", "ip [IPV4]"}, c.Tags)
	assert.Equal(t, map[string]string{"referrer": "[EMAIL]", "session_token": "[REDACTED]", "plan": "gold"}, c.Extra)
	assert.Equal(t, Address{Street: "mail [EMAIL]"}, c.Any)
	assert.Equal(t, 3, c.Visits)
	assert.Equal(t, email, c.private, "unexported fields are left alone")

	// Redacting again changes nothing.
	again := *c
	require.NoError(t, r.Struct(&again))
	assert.Equal(t, *c, again)
}

func TestStructIdempotentForEveryStrategy(t *testing.T) {
	for name, r := range every(t) {
		t.Run(name, func(t *testing.T) {
			c := newCustomer()
			require.NoError(t, r.Struct(c))
			once := dump(c)
			require.NoError(t, r.Struct(c))
			assert.Equal(t, once, dump(c))
		})
	}
}

// dump prints c with what its pointers point to.
func dump(c *Customer) string {
	return fmt.Sprintf("%+v %q %+v %q", *c, *c.Mobile, *c.Home, c.Card)
}

func TestStructNested(t *testing.T) {
	type Node struct {
		Text     string
		Next     *Node
		Children []Node
		ByName   map[string]*Node
		Values   map[string]any
		Array    [2]string
	}
	r := newRedactor(t, nil)
	n := &Node{Text: email, Children: []Node{{Text: phone}}, Array: [2]string{"a", ip}}
	n.Next = n // a cycle
	n.ByName = map[string]*Node{"self": n, "other": {Text: card}}
	n.Values = map[string]any{"ip": ip, "n": 1, "list": []string{email}, "password": 42}
	require.NoError(t, r.Struct(n))
	assert.Equal(t, "[EMAIL]", n.Text)
	assert.Equal(t, "[PHONE]", n.Children[0].Text)
	assert.Equal(t, "[CARD]", n.ByName["other"].Text)
	assert.Same(t, n, n.ByName["self"])
	assert.Equal(t, map[string]any{"ip": "[IPV4]", "n": 1, "list": []string{"[EMAIL]"}, "password": "[REDACTED]"}, n.Values)
	assert.Equal(t, [2]string{"a", "[IPV4]"}, n.Array)
}

func TestStructBadInput(t *testing.T) {
	type BadTag struct {
		Count int `pii:"count"`
	}
	type Deep struct {
		Next *Deep
		Text string
	}
	deep := &Deep{Text: email}
	for range 150 {
		deep = &Deep{Next: deep, Text: email}
	}
	r := newRedactor(t, nil)
	s := "x"
	for _, tc := range []struct {
		name  string
		v     any
		field string
	}{
		{"nil", nil, "value"},
		{"a nil pointer", (*Customer)(nil), "value"},
		{"a struct, not a pointer", Customer{}, "value"},
		{"a pointer to a string", &s, "value"},
		{"a bad tag", &struct{ B BadTag }{}, "BadTag.Count"},
		{"too deep", deep, "value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Struct(tc.v)
			require.Error(t, err)
			assert.True(t, errors.Is(err, dataward.ErrInvalid))
			var ve *dataward.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tc.field, ve.Problems[0].Field)
		})
	}
	assert.Equal(t, email, deep.Text, "a value too deep is not changed at all")
}

func TestStructEmptyValues(t *testing.T) {
	r := newRedactor(t, nil)
	var c Customer
	require.NoError(t, r.Struct(&c))
	assert.Equal(t, Customer{}, c)
}

// TestStructReplacementsOnly checks that a tagged field is left as it is
// only if it holds exactly what some value would be replaced with.
func TestStructReplacementsOnly(t *testing.T) {
	type Contact struct {
		Email string `pii:"email"`
		Phone string `pii:"phone"`
		Card  string `pii:"card"`
		Name  string `pii:"name"`
	}
	r := newRedactor(t, nil)
	for _, tc := range []struct {
		in   Contact
		kept bool
	}{
		{Contact{"[EMAIL]", "[PHONE]", "[CARD]", "[NAME]"}, true},
		{Contact{"[EMAIL:example.com]", "+** ** *** **99", "**** **** **** 1111", "J***"}, true},
		{Contact{"[EMAIL:bcdfghjklmnp]", "[PHONE:bcdfghjklmnp]", "[CARD:bcdfghjklmnp]", "[NAME:bcdfghjklmnp]"}, true},
		{Contact{"[EMAIL:" + email + "]", "[PHONE:" + phone + "]", "[CARD]x", "[NAME:Jane Doe]"}, false},
		{Contact{"[EMAIL:aeiouaeiouae]", "+** ** *** 0199", "**** **** 1111 1111", "Ja***"}, false},
	} {
		c := tc.in
		require.NoError(t, r.Struct(&c))
		if tc.kept {
			assert.Equal(t, tc.in, c)
		} else {
			assert.Equal(t, Contact{"[EMAIL]", "[PHONE]", "[CARD]", "[NAME]"}, c, "from %+v", tc.in)
		}
	}
}
